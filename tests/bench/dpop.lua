-- wrk script: the DPoP-bound token of $DPOP_TOKEN_FILE with the next fresh proof from the file
-- named by $TOKENS_FILE on each request, as DPoP clients send them. Past the last proof it
-- starts over, and the replays show as non-2xx answers.
local token
local proofs = {}
local next_index = 0

function init(args)
  local file = io.open(os.getenv("DPOP_TOKEN_FILE"))
  token = file:read("*l")
  file:close()
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    proofs[#proofs + 1] = line
  end
end

function request()
  next_index = next_index % #proofs + 1
  return wrk.format("GET", nil, {
    ["Authorization"] = "DPoP " .. token,
    ["DPoP"] = proofs[next_index],
  })
end
