//! Lua scripts: each runs atomically on the server, one round trip.

use std::sync::LazyLock;

use redis::Script;

/// KEYS: lock, fence, global epoch, tenant epoch. ARGV: ttl ms.
/// Returns {token, global epoch, tenant epoch}, or nil when the lock is held.
pub static LOCK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('EXISTS', KEYS[1]) == 1 then return false end
        local token = redis.call('INCR', KEYS[2])
        redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
        return {token, tonumber(redis.call('GET', KEYS[3]) or '0'), tonumber(redis.call('GET', KEYS[4]) or '0')}
        ",
    )
});

/// KEYS: lock, global epoch, tenant epoch, tenant hash.
/// ARGV: token, global epoch, tenant epoch, field, value, hash ttl ms.
/// Stores only while the lock still holds the token and no invalidation happened.
pub static PUT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return 0 end
        if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[3] then return 0 end
        redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])
        redis.call('PEXPIRE', KEYS[4], ARGV[6])
        return 1
        ",
    )
});

/// KEYS: lock. ARGV: token. Deletes the lock only if it still holds the token.
pub static UNLOCK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        ",
    )
});
