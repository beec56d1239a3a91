export { createRedisBudgetStore, type RedisBudgetStoreOptions } from './store.js';
