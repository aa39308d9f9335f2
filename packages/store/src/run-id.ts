// Lua expression: the server's run_id. It changes with every start of redis-server (a restart with or
// without its data, a promoted replica), so a script that records it next to its state can tell, atomically
// with what it does next, that it runs on a new incarnation which may have lost or missed something.
export const REDIS_RUN_ID_LUA = `string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')`;
