// bench/ours-entry.mjs — entry point used by bench/ours-server.sh: runs dist/app/server.js unchanged.
// The separate command line (`node …/bench/ours-entry.mjs`) keeps the benchmarked process apart from
// development servers, so a `pkill -f dist/app/server.js` elsewhere does not hit it mid-run.
// Signals and the exit are logged (stderr → ours-server.log), so an unexpected stop shows in the log;
// the server's own SIGINT/SIGTERM handlers still do the shutdown.
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => console.error(`[bench] ${new Date().toISOString()} pid ${process.pid} received ${sig}`));
}
process.on('exit', (code) => console.error(`[bench] ${new Date().toISOString()} pid ${process.pid} exit ${code}`));
await import('../dist/app/server.js');
