# vpcd — thin wrapper over Meson. `make run` and `make test` are the two
# commands the README promises; everything else here serves them.
BUILD      ?= build
BUILD_SAN  ?= build-san
LISTEN     ?= 127.0.0.1:8775
DATA_DIR   ?= ./var

.PHONY: all deps run test unit test-san api-test api-test-san interop-test clean bench-api

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
# interop (real strongSwan).
test: all unit test-san api-test api-test-san interop-test

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

bench-api: all
	python3 bench/api.py --build $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
