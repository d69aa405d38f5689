# The C safety core as the MicroPython user C module `_chargecore` (make ports: unix, stm32, ...).
CHARGECORE_MOD_DIR := $(USERMOD_DIR)
CHARGECORE_CORE_DIR := $(CHARGECORE_MOD_DIR)/../../../core_c

SRC_USERMOD_C += $(CHARGECORE_MOD_DIR)/modchargecore.c $(wildcard $(CHARGECORE_CORE_DIR)/src/*.c)
CFLAGS_USERMOD += -I$(CHARGECORE_CORE_DIR)/include
