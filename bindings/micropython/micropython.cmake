# USER_C_MODULES entry for CMake ports (rp2, esp32, ...): every chargepark user C module.
include(${CMAKE_CURRENT_LIST_DIR}/chargecore/micropython.cmake)
