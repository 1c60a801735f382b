// Some end-to-end tests run the built server as a real process (SIGTERM, two instances):
// build it once before any test starts.
const { execFileSync } = require('node:child_process');
module.exports = async () => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
};
