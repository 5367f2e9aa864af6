// Entry point of the Key Vault double's process: `node --import tsx keyvault-double-main.ts CONFIG.json`.
import { readFileSync } from 'node:fs';
import { KeyVaultDouble, type DoubleConfig } from './keyvault-double.js';

const configPath = process.argv[2];
if (!configPath) throw new Error('usage: keyvault-double-main.ts CONFIG.json');
const config = JSON.parse(readFileSync(configPath, 'utf8')) as DoubleConfig;
const server = await new KeyVaultDouble(config).listen();
console.log(`keyvault double listening on https://127.0.0.1:${config.port}`);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
