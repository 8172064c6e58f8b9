# Tests/check.sh: the bookkeeping the shell tests share (sourced, like
# Tests/c/check.h for the C tests). `check STATUS MESSAGE` counts one check:
# STATUS 0 passes, anything else fails and prints "FAIL: MESSAGE". With
# CHECK_PRINT_OK=1 set before sourcing, passing checks print "ok: MESSAGE".
# Each script ends with its own summary from $passed and $failed.
passed=0
failed=0
check() {
    if [ "$1" -eq 0 ]; then
        passed=$((passed + 1))
        if [ "${CHECK_PRINT_OK:-0}" = 1 ]; then echo "ok: $2"; fi
    else
        failed=$((failed + 1))
        echo "FAIL: $2"
    fi
    return 0
}
