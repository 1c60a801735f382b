#!/usr/bin/env node
import { runDeviceLogin } from './device-login.js';

runDeviceLogin(process.argv.slice(2)).then((code) => process.exit(code));
