# Run AGENT --check-config CONF --rules RULES; it must exit 2 with stderr
# matching PATTERN (a file:line and the reason).
execute_process(COMMAND ${AGENT} --check-config ${CONF} --rules ${RULES}
  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "exit status ${rc}, want 2; stderr: ${err}")
endif()
if(NOT err MATCHES "${PATTERN}")
  message(FATAL_ERROR "stderr does not match '${PATTERN}': ${err}")
endif()
message(STATUS "refused as expected: ${err}")
