# vpcd — thin wrapper over Meson. `make run` and `make test` are the two
# commands the README promises; everything else here serves them.
BUILD      ?= build
BUILD_SAN  ?= build-san
BUILD_FUZZ ?= build-fuzz
LISTEN     ?= 127.0.0.1:8775
DATA_DIR   ?= ./var

.PHONY: all deps run test test-net test-rest unit test-san api-test api-test-san interop-test hostile-test terraform-test readme-test console-test console-net-test fuzz clean bench-api demo

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) --buildtype=debugoptimized -Dwerror=true

$(BUILD_SAN)/build.ninja: | deps
	meson setup $(BUILD_SAN) --buildtype=debug -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false

run: all
	@mkdir -p $(DATA_DIR)
	exec $(BUILD)/vpcd --listen $(LISTEN) --data-dir $(DATA_DIR)

# Every test: unit (cmocka, plain and under ASan+UBSan), API (boto3 and the
# aws CLI against a vpcd started per test, plain and under ASan+UBSan),
# interop (real strongSwan), hostile (attacks replayed), Terraform (the
# hashicorp/aws provider, offline), the README, the web console in a real
# browser, fuzzing.
# Two lanes at once: the network suites one after the other (tunnels,
# floods: their timing matters), and beside them the rest, TEST_JOBS - 1 at
# a time. No two suites share a name or a port: every vpcd gets a free
# port, every namespace a per-run name. Each suite's output is printed
# whole when it ends.
TEST_JOBS ?= 3
TEST_REST = unit test-san api-test api-test-san terraform-test readme-test console-test fuzz
test: all
	$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target test-net test-rest

test-net: all
	$(MAKE) --no-print-directory interop-test
	$(MAKE) --no-print-directory hostile-test
	$(MAKE) --no-print-directory console-net-test

test-rest: $(TEST_REST)

unit: all
	meson test -C $(BUILD) --print-errorlogs --suite unit

test-san: $(BUILD_SAN)/build.ninja
	ninja -C $(BUILD_SAN)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(BUILD_SAN) --print-errorlogs --suite unit

api-test: all
	python3 tests/run.py --build $(BUILD) tests/api

api-test-san: test-san
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  python3 tests/run.py --build $(BUILD_SAN) tests/api

interop-test: all
	python3 tests/run.py --build $(BUILD) tests/interop

# Attacks replayed against a real vpcd (and a real strongSwan router):
# floods, hostile input; bounded in time, in throw-away namespaces.
hostile-test: all
	python3 tests/run.py --build $(BUILD) tests/hostile

# Terraform configurations applied, planned (no change) and destroyed
# against vpcd, from the image's provider mirror (no network).
terraform-test: all
	python3 tests/run.py --build $(BUILD) tests/terraform

# The README's examples after `make run`, and install-deps.sh's verification.
readme-test: all
	python3 tests/run.py --build $(BUILD) tests/readme

# The web console: its SigV4 signer against botocore's (node), its wizard
# against vpcctl wizard, and the seed's story in headless Chromium
# (playwright-core, pinned in tests/console/package-lock.json, installed
# into $(BUILD)/console-test). Screenshots: $(BUILD)/console-artifacts/.
console-test: all
	scripts/console-test-deps.sh $(BUILD)
	python3 tests/run.py --build $(BUILD) tests/console

# The console's Tunnel details with both tunnels UP through a real
# strongSwan router, then DOWN by themselves (DPD): the network lane's.
console-net-test: all
	scripts/console-test-deps.sh $(BUILD)
	VPCD_CONSOLE_NET=1 python3 tests/run.py --build $(BUILD) tests/console -k TunnelsUp

# libFuzzer (clang, ASan+UBSan) on every place input enters, each for a
# bounded time (target:seconds): IKE with real Diffie-Hellman and with the
# fuzz-only stub (fuzz_ike_fast), ESP, the Query wire layer, SigV4, frames
# from instances. Seeds and crash regressions come from tests/fuzz/corpus/
# (read, never written); what a run finds grows $(BUILD_FUZZ)/corpus/.
FUZZ_TARGETS ?= tests/vpn/ike/fuzz_ike:10 tests/vpn/ike/fuzz_ike_fast:25 \
  tests/vpn/ike/fuzz_ikev2:15 tests/vpn/esp/fuzz_esp:25 tests/api/fuzz_wire:25 \
  tests/api/fuzz_sigv4:25 tests/net/fuzz_frame:25
$(BUILD_FUZZ)/build.ninja: | deps
	CC=clang meson setup $(BUILD_FUZZ) --buildtype=debugoptimized -Dwerror=false \
	  -Db_sanitize=address,undefined -Db_lundef=false

fuzz: $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_FUZZ) $(foreach t,$(FUZZ_TARGETS),$(firstword $(subst :, ,$(t))))
	for spec in $(FUZZ_TARGETS); do \
	  f=$${spec%%:*}; secs=$${spec##*:}; n=$$(basename $$f); s=$${n#fuzz_}; \
	  seeds=tests/fuzz/corpus/$${s%_fast}; [ -d $$seeds ] || seeds=; \
	  mkdir -p $(BUILD_FUZZ)/corpus/$$n; \
	  if $(BUILD_FUZZ)/$$f -max_total_time=$$secs -seed=1 -print_final_stats=1 \
	      -artifact_prefix=$(BUILD_FUZZ)/$$n- $(BUILD_FUZZ)/corpus/$$n $$seeds > $(BUILD_FUZZ)/$$n.log 2>&1; then \
	    echo "$$n: $$(grep -m1 -o 'Done [0-9]* runs in [0-9]* second(s)' $(BUILD_FUZZ)/$$n.log), no crash"; \
	  else tail -n 40 $(BUILD_FUZZ)/$$n.log; echo "$$n: FAILED"; exit 1; fi; \
	done

# The seed's story in throw-away namespaces (needs root): wizard, configuration
# download, strongSwan tunnels UP, an instance, ping from the office.
demo: all
	python3 demo/demo.py --build $(BUILD)

bench-api: all
	python3 bench/api.py --build $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
