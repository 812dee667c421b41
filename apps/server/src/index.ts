export { type AppOptions, createApp } from './app.js';
export { listen, type RunningServer } from './listen.js';
export { type OpenAIRoutesOptions, openaiRoutes, type ServedModel } from './routes/openai.js';
