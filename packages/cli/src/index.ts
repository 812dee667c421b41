export { main } from './main.js';
export { reportError } from './report-error.js';
