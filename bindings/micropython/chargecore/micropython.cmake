# The C safety core as the MicroPython user C module `_chargecore` (CMake ports).
set(CHARGECORE_CORE_DIR ${CMAKE_CURRENT_LIST_DIR}/../../../core_c)
file(GLOB CHARGECORE_CORE_SOURCES ${CHARGECORE_CORE_DIR}/src/*.c)

add_library(usermod_chargecore INTERFACE)
target_sources(usermod_chargecore INTERFACE ${CMAKE_CURRENT_LIST_DIR}/modchargecore.c ${CHARGECORE_CORE_SOURCES})
target_include_directories(usermod_chargecore INTERFACE ${CHARGECORE_CORE_DIR}/include)
target_link_libraries(usermod INTERFACE usermod_chargecore)
