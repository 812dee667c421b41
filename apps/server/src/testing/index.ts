export { type Fault, type FaultProxy, type ProxiedRequest, startFaultProxy } from './fault-proxy.js';
