#!/usr/bin/env node
import { runAudit } from './audit.js';

runAudit(process.argv.slice(2)).then((code) => process.exit(code));
