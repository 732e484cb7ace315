# Targets: build, test, nocgo (build everything and test the engine with cgo off),
# check (vet + lint + nocgo + tests), golden (rewrite golden files),
# bench (speed ratios, in process and with wrk as an outside client; background
# jobs/s and p99), oracle (independent parsers over
# the golden corpus), fuzz.
GO ?= go
STATICCHECK ?= $(GO) tool staticcheck
FUZZTIME ?= 15s

.PHONY: build test nocgo check vet lint golden bench oracle fuzz clean

build:
	$(GO) build -o bin/integrations ./cmd/integrations

test:
	$(GO) test -race -shuffle=on ./...

# Without cgo the Redshift check runs PostgreSQL's parser compiled to WebAssembly
# (render/sqlcheck/pg_nocgo.go): an embedding program needs no C compiler.
nocgo:
	CGO_ENABLED=0 $(GO) build ./...
	CGO_ENABLED=0 $(GO) test ./render/...

vet:
	$(GO) vet ./...

lint:
	$(STATICCHECK) ./...

check: vet lint nocgo test

golden:
	$(GO) test ./render/ -run 'TestGolden' -update

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./render/ | tee bin/bench.txt
	$(GO) test -run '^$$' -bench 'BenchmarkServer|BenchmarkStores|BenchmarkGrowth' -benchtime 1x ./internal/server/ | tee -a bin/bench.txt
	$(GO) test -run '^$$' -bench . -benchmem ./internal/store/ | tee -a bin/bench.txt
	$(GO) test -run '^$$' -bench 'BenchmarkJobs' -benchtime 1x ./internal/e2e/ | grep -v '^{' | tee -a bin/bench.txt
	bash internal/bench/wrk.sh | tee -a bin/bench.txt
	bash internal/oracle/cli-vs-sqlfluff.sh

oracle:
	bash internal/oracle/run.sh golden

fuzz:
	for t in FuzzTokenizeSnowflake FuzzTokenizeRedshift FuzzTokenizeSynapse; do \
		$(GO) test ./render/sqlcheck/ -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; done
	for t in FuzzSnowflakeQuoting FuzzRedshiftQuoting FuzzSynapseQuoting; do \
		$(GO) test ./platforms/ -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; done
	$(GO) test ./render/ -run '^$$' -fuzz '^FuzzInjection$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf bin
