# Shell assertions for the suite: each prints `ok - ...` or `not ok - ...`.
# Source it, assert, end with done_testing (exits 1 if anything failed).
_tap_failed=0

ok() {	# ok CONDITION-EXIT-STATUS DESCRIPTION
	if [ "$1" -eq 0 ]; then echo "ok - $2"; else echo "not ok - $2"; _tap_failed=1; fi
}
is() {	# is GOT WANT DESCRIPTION
	if [ "$1" == "$2" ]; then echo "ok - $3"
	else echo "not ok - $3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; _tap_failed=1; fi
}
like() {	# like GOT EXTENDED-REGEX DESCRIPTION (matches any line)
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then echo "ok - $3"
	else echo "not ok - $3"; echo "#   got:  '$(printf '%s' "$1" | head -c 600)'"; echo "#   want match: /$2/"; _tap_failed=1; fi
}
unlike() {	# unlike GOT EXTENDED-REGEX DESCRIPTION
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then echo "not ok - $3"; echo "#   got:  '$(printf '%s' "$1" | head -c 600)'"; _tap_failed=1
	else echo "ok - $3"; fi
}
diag() { echo "# $*"; }
done_testing() { exit "$_tap_failed"; }
