export * from './subclasses.js';
export * from './xfer-error.js';
