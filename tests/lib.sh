# Shell assertions for the suite: each prints `ok - ...` or `not ok - ...`.
# Source it, assert, end with done_testing (exits 1 if anything failed, or if
# no assertion ran at all: a script that bailed out early must not pass).
_tap_failed=0
_tap_run=0

ok() {	# ok CONDITION-EXIT-STATUS DESCRIPTION
	_tap_run=$((_tap_run + 1))
	if [ "$1" -eq 0 ]; then echo "ok - $2"; else echo "not ok - $2"; _tap_failed=1; fi
}
is() {	# is GOT WANT DESCRIPTION
	_tap_run=$((_tap_run + 1))
	if [ "$1" == "$2" ]; then echo "ok - $3"
	else echo "not ok - $3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; _tap_failed=1; fi
}
like() {	# like GOT EXTENDED-REGEX DESCRIPTION (matches any line)
	_tap_run=$((_tap_run + 1))
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then echo "ok - $3"
	else echo "not ok - $3"; echo "#   got:  '$(printf '%s' "$1" | head -c 600)'"; echo "#   want match: /$2/"; _tap_failed=1; fi
}
unlike() {	# unlike GOT EXTENDED-REGEX DESCRIPTION
	_tap_run=$((_tap_run + 1))
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then echo "not ok - $3"; echo "#   got:  '$(printf '%s' "$1" | head -c 600)'"; _tap_failed=1
	else echo "ok - $3"; fi
}
diag() { echo "# $*"; }
done_testing() {
	if [ "$_tap_run" -eq 0 ]; then echo "not ok - no assertion ran"; exit 1; fi
	exit "$_tap_failed"
}
