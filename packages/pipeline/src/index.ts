export * from './engines.js';
export * from './math-task.js';
export * from './repro.js';
export * from './train-recipe.js';
