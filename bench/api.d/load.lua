-- bench/api's wrk script: one scenario per run, random ids from the files
-- bench/api exports after seeding.
--
--   wrk ... -s bench/api.d/load.lua URL -- SCENARIO DIR EXPECTED NONCE
--
-- DIR holds keys.txt (one tenant key per line, in bench.tenants order),
-- accounts.tsv (tenant, account_id, user_id, external_id, starting_balance),
-- users.tsv (tenant, user_id, external_id, email), tokens.txt and feed.tsv
-- (tenant, account_id, deep cursor). EXPECTED lists the statuses the
-- scenario answers (e.g. "201"); any other response is counted as
-- unexpected. NONCE makes the external ids of new users and accounts
-- unique across runs. done() prints one "BENCH key=value ..." line that
-- bench/api reads.

local scenario, dir, nonce
local keys, accounts, users, tokens, feed = {}, {}, {}, {}, nil
local expected = {}
local counter = 0
local threads = {}

-- per thread, read by done() through thread:get
statuses = {}
unexpected = 0

local function lines(path)
    local out = {}
    local f = assert(io.open(path, "r"))
    for line in f:lines() do
        if line ~= "" then
            out[#out + 1] = line
        end
    end
    f:close()
    return out
end

local function fields(line)
    local out = {}
    for f in string.gmatch(line, "[^\t]+") do
        out[#out + 1] = f
    end
    return out
end

local function table_of(path)
    local out = {}
    for _, line in ipairs(lines(path)) do
        out[#out + 1] = fields(line)
    end
    return out
end

function setup(thread)
    threads[#threads + 1] = thread
    thread:set("thread_no", #threads)
end

function init(args)
    scenario, dir, nonce = args[1], args[2], args[4]
    for s in string.gmatch(args[3], "%d+") do
        expected[tonumber(s)] = true
    end
    keys = lines(dir .. "/keys.txt")
    accounts = table_of(dir .. "/accounts.tsv")
    users = table_of(dir .. "/users.tsv")
    tokens = lines(dir .. "/tokens.txt")
    feed = table_of(dir .. "/feed.tsv")[1]
    math.randomseed(tonumber(string.sub(nonce, -9)) + 7919 * thread_no)
end

local function headers(tenant, body)
    local h = {}
    if tenant then
        h["X-API-Key"] = keys[tonumber(tenant)]
    end
    if body then
        h["Content-Type"] = "application/json"
    end
    return h
end

local function pick(t)
    return t[math.random(#t)]
end

local function new_id(kind)
    counter = counter + 1
    return string.format("wrk-%s-%s-%d-%d", kind, nonce, thread_no, counter)
end

-- scenario name -> function returning method, path, tenant (its key's line), body
local builders = {
    -- the HTTP ceiling: a small static file from the same server
    static = function()
        return "GET", "/favicon.svg"
    end,
    account_get = function()
        local a = pick(accounts)
        return "GET", "/v1/partner/accounts/" .. a[2], a[1]
    end,
    trades_first = function()
        return "GET", "/v1/partner/accounts/" .. feed[2] .. "/trades?limit=100", feed[1]
    end,
    trades_deep = function()
        return "GET", "/v1/partner/accounts/" .. feed[2] .. "/trades?limit=100&cursor=" .. feed[3],
            feed[1]
    end,
    user_get = function()
        local u = pick(users)
        return "GET", "/v1/partner/users/" .. u[2], u[1]
    end,
    users_post_new = function()
        local ext = new_id("u")
        return "POST", "/v1/partner/users", tostring(math.random(#keys)),
            string.format('{"external_id":"%s","email":"%s@bench.example.com"}', ext, ext)
    end,
    users_post_replay = function()
        local u = pick(users)
        return "POST", "/v1/partner/users", u[1],
            string.format('{"external_id":"%s","email":"%s"}', u[3], u[4])
    end,
    accounts_post_new = function()
        local u = pick(users)
        return "POST", "/v1/partner/accounts", u[1],
            string.format('{"user_id":%s,"external_id":"%s","stage":"challenge",'
                          .. '"starting_balance":"10000.00"}', u[2], new_id("a"))
    end,
    accounts_post_replay = function()
        local a = pick(accounts)
        return "POST", "/v1/partner/accounts", a[1],
            string.format('{"user_id":%s,"external_id":"%s","stage":"challenge",'
                          .. '"starting_balance":"%s"}', a[3], a[4], a[5])
    end,
    account_patch = function()
        local a = pick(accounts)
        counter = counter + 1
        return "PATCH", "/v1/partner/accounts/" .. a[2], a[1],
            string.format('{"metadata":{"bench":%d}}', counter)
    end,
    orders_market = function()
        local a = pick(accounts)
        return "POST", "/v1/partner/accounts/" .. a[2] .. "/orders", a[1],
            string.format('{"token_id":"%s","side":"BUY","type":"market","quantity":"1"}',
                          pick(tokens))
    end,
}

-- the memory run: every scenario, reads weighted as a rule engine polls
local mix = {}
for name, weight in pairs({ account_get = 16, trades_first = 4, trades_deep = 4, user_get = 4,
                            account_patch = 4, orders_market = 2, users_post_replay = 2,
                            accounts_post_replay = 2, users_post_new = 1,
                            accounts_post_new = 1 }) do
    for _ = 1, weight do
        mix[#mix + 1] = builders[name]
    end
end
builders.mixed = function()
    return pick(mix)()
end

function request()
    local method, path, tenant, body = builders[scenario]()
    return wrk.format(method, path, headers(tenant, body), body)
end

function response(status, hdrs, body)
    statuses[status] = (statuses[status] or 0) + 1
    if not expected[status] then
        unexpected = unexpected + 1
        if unexpected <= 3 then
            io.stderr:write(string.format("bench/api: %s: unexpected HTTP %d: %s\n", scenario,
                                          status, string.sub(body or "", 1, 300)))
        end
    end
end

function done(summary, latency, requests)
    local all, bad = {}, 0
    for _, t in ipairs(threads) do
        bad = bad + t:get("unexpected")
        for status, n in pairs(t:get("statuses")) do
            all[status] = (all[status] or 0) + n
        end
    end
    local list = {}
    for status, n in pairs(all) do
        list[#list + 1] = status .. ":" .. n
    end
    table.sort(list)
    local e = summary.errors
    io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d "
                           .. "connect=%d read=%d write=%d timeout=%d unexpected=%d statuses=%s\n",
                           summary.requests, summary.duration, latency:percentile(50),
                           latency:percentile(99), e.status, e.connect, e.read, e.write,
                           e.timeout, bad, table.concat(list, ",")))
end
