module lockstep.dev/e2e/node/pause

go 1.22
