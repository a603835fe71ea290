# Cross toolchain for the rv32 device (QEMU virt, ESP32-C3's ISA): Debian's gcc-riscv64-unknown-elf with
# picolibc. Used by `scripts/build rv32` (build-rv32/).
#
# GCC 12 follows the 2019 ISA spec, where the CSR instructions the firmware needs are the zicsr extension
# and fence.i is zifencei, so code is compiled for rv32imc_zicsr_zifencei. Its multilib table knows only
# plain names, though: with those suffixes it would pick the default (rv64) libraries, so the link step
# names rv32imc (-> picolibc's rv32im/ilp32).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_CXX_COMPILER riscv64-unknown-elf-g++)
set(CMAKE_ASM_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(PRIVOTA_RV32_ARCH "-march=rv32imc_zicsr_zifencei -mabi=ilp32")
# -msave-restore: prologues and epilogues call shared save/restore routines instead of inlining the register
# saves (the bootloader's .text: -6 %, for a few instructions per call).
# -flto -ffat-lto-objects: objects carry LTO code beside the normal one; programs link the normal code
# (-fno-lto below) except the bootloader, which links with -flto to fit its flash region.
set(PRIVOTA_RV32_SIZE_FLAGS "-flto -ffat-lto-objects -ffunction-sections -fdata-sections -msave-restore")
set(CMAKE_C_FLAGS_INIT "${PRIVOTA_RV32_ARCH} --specs=picolibc.specs ${PRIVOTA_RV32_SIZE_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT
    "${PRIVOTA_RV32_ARCH} --specs=picolibc.specs ${PRIVOTA_RV32_SIZE_FLAGS} -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")
set(CMAKE_ASM_FLAGS_INIT "${PRIVOTA_RV32_ARCH}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fno-lto -march=rv32imc -mabi=ilp32 -nostartfiles -Wl,--gc-sections -Wl,--no-warn-rwx-segments")
# No libstdc++ exists for the target (and GCC 12's g++ has no -nostdlib++): programs link with the C driver;
# the port supplies the little C++ runtime the firmware needs.
set(CMAKE_CXX_LINK_EXECUTABLE
    "<CMAKE_C_COMPILER> <FLAGS> <CMAKE_CXX_LINK_FLAGS> <LINK_FLAGS> <OBJECTS> -o <TARGET> <LINK_LIBRARIES>")
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os")
set(CMAKE_CXX_FLAGS_MINSIZEREL_INIT "-Os")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
