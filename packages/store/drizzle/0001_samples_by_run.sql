CREATE INDEX `samples_run_idx` ON `samples` (`run_id`);--> statement-breakpoint
-- Custom: a sample's own run is found through samples.run_id now; drop the links 0000 wrote for it.
DELETE FROM `run_samples` WHERE EXISTS (
	SELECT 1 FROM `samples` WHERE `samples`.`id` = `run_samples`.`sample_id` AND `samples`.`run_id` = `run_samples`.`run_id`
);
