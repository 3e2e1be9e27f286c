# Every __shared__ variable of the emulated kernels must lie in the linker section the CUDA emulation
# poisons before each block (kernels/emulation/cuda_emulation.h). GCC silently drops the section
# attribute from statics of function templates, so a __shared__ array declared in a template would
# keep stale values between blocks and hide reads of unwritten shared memory; this check names it.
# Run by ctest: cmake -DOBJDUMP=... -DLIBRARY=... -P check_shared_sections.cmake
execute_process(COMMAND ${OBJDUMP} -t ${LIBRARY} OUTPUT_VARIABLE table RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} -t ${LIBRARY} failed (${status})")
endif()
# Function-local statics of cvae::kernels (mangled _ZZN4cvae7kernels...): in kernel code, only
# __shared__ variables are function-local statics.
string(REGEX MATCHALL "[^\n]* O [^\n]*_ZZN4cvae7kernels[^\n]*" statics "${table}")
set(in_section 0)
set(outside "")
foreach(line IN LISTS statics)
  if(line MATCHES "cvae_emulated_shared")
    math(EXPR in_section "${in_section} + 1")
  else()
    string(REGEX REPLACE ".* " "" symbol "${line}")
    string(APPEND outside "\n  ${symbol}")
  endif()
endforeach()
if(NOT outside STREQUAL "")
  message(FATAL_ERROR "__shared__ variables outside the poisoned section (declared in a template? "
                      "move them to a function that is not one, as kernels/reductions.cuh does):${outside}")
endif()
if(in_section EQUAL 0)
  message(FATAL_ERROR "no __shared__ variable found in ${LIBRARY}: is the check still looking at the right names?")
endif()
message(STATUS "${in_section} __shared__ variables, all in the poisoned section")
