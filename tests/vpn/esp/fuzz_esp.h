/*
 * fuzz_esp — the fuzz target's entry point and the SAs it decrypts with,
 * shared with fuzz_replay.c (which builds seed packets for them).
 */
#ifndef VPCD_TESTS_FUZZ_ESP_H
#define VPCD_TESTS_FUZZ_ESP_H

#include <stddef.h>
#include <stdint.h>

#include "vpn/esp/esp.h"

#define FUZZ_SA_COUNT		3
#define FUZZ_SPI_GCM		0x1001u
#define FUZZ_SPI_CBC_SHA1	0x1002u
#define FUZZ_SPI_CBC_SHA256	0x1003u

/* Inputs that decrypted to an inner packet so far. */
extern unsigned fuzz_esp_decrypted;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* An outbound SA with the same keys as inbound SA number which (caller
 * frees). */
struct esp_sa *fuzz_esp_outbound(unsigned which);

#endif
