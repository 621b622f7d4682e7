-- wrk script: each request carries the next token from the file named by $TOKENS_FILE.
local tokens = {}
local next_index = 1

function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    tokens[#tokens + 1] = line
  end
  next_index = math.random(#tokens)
end

function request()
  next_index = next_index % #tokens + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens[next_index] })
end
