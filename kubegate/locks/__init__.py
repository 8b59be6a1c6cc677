"""Every dependency kubegate installs, locked in its ecosystem's own way and installed from the lock.

A build that resolves versions at build time floats: the same commit that passed yesterday
breaks today because a transitive package published a release (mongosh's whatwg-url 15 needed
Node 20 and broke the client image on Debian's Node 18). So each install reads a committed
lock: npm's package-lock.json with `npm ci`, pip requirements with hashes and
`--require-hashes`, a Maven artifact with its SHA-512, Go modules through go.sum. `catalog`
lists them, `check` says where a lock and its manifest disagree (a harness test runs it),
`update` renews them (`kubegate locks update`).
"""
