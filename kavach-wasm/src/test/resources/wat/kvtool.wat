;; kvtool: a multi-call WASI preview 1 test program, written without libc.
;;
;; Called as "kvtool" or "kvsh" (any argv[0] whose base name, without ".wasm", is neither of the
;; aliases below), it runs the operations given as arguments, in order:
;;   out S | err S        write S to stdout | stderr; backslash escapes \n \t \\ \NNN (octal)
;;   cat                  copy stdin to stdout
;;   read P               copy file P to stdout
;;   write P S            create or truncate file P and write S (escapes as for out)
;;   fill P N             create or truncate file P and write N zero bytes, 64 KiB at a time
;;   append P S           append S to file P
;;   zeros N | zeros2 N   write N zero bytes to stdout | stderr, 64 KiB at a time
;;   exit N               proc_exit(N)
;;   args | env | pwd     print argv, the environment, one per line, or the first preopen's name
;;   sleep S              sleep S seconds (decimal fraction allowed) with poll_oneoff
;;   loop                 spin forever without a call
;;   grow N               memory.grow(N pages); print the result; exit 1 if it was -1
;;   trap                 execute unreachable
;;   symlink T P | link E P | rm P | mkdir P    path_symlink | path_link | path_unlink_file | path_create_directory
;; Called as true, pwd, env, cat, echo or sleep, it behaves like that command.
;; A path is resolved like wasi-libc does: the preopen whose name is the longest prefix of an
;; absolute path, or the preopen "." for a relative one. A failed WASI call prints
;; "kvtool: OP: errno N" on stderr and exits with status N, so tests can assert the exact errno.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_link" (func $path_link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $path_unlink_file (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))

  ;; 0..255 scratch (iovec, results), 300..463 names of operations, 464..599 argv[0]'s base
  ;; name, 600..1000 preopen name, 1001..1023 number text,
  ;; 1024..4095 argv pointers, 4096..32767 argv bytes, 32768..65535 environ,
  ;; 65536..131071 I/O buffer (64 KiB), 131072..196607 escape-decoded text. Four pages in all.
  (memory (export "memory") 4)

  (data (i32.const 200) "kvtool: ")
  (data (i32.const 212) ": errno ")
  (data (i32.const 224) "\n")
  (data (i32.const 228) "/")
  (data (i32.const 232) " ")
  (data (i32.const 236) ".")

  (global $argc (mut i32) (i32.const 0))
  (global $rel (mut i32) (i32.const 0))
  (global $op (mut i32) (i32.const 0))

  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $n))

  (func $streq (param $a i32) (param $b i32) (result i32) (local $ca i32)
    (block $ne (loop $l
      (local.set $ca (i32.load8_u (local.get $a)))
      (br_if $ne (i32.ne (local.get $ca) (i32.load8_u (local.get $b))))
      (if (i32.eqz (local.get $ca)) (then (return (i32.const 1))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $l)))
    (i32.const 0))

  ;; Writes len bytes, retrying short writes; returns the errno.
  (func $write (param $fd i32) (param $p i32) (param $len i32) (result i32) (local $e i32)
    (block $done (loop $l
      (br_if $done (i32.le_s (local.get $len) (i32.const 0)))
      (i32.store (i32.const 0) (local.get $p))
      (i32.store (i32.const 4) (local.get $len))
      (local.set $e (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
      (if (local.get $e) (then (return (local.get $e))))
      (local.set $p (i32.add (local.get $p) (i32.load (i32.const 8))))
      (local.set $len (i32.sub (local.get $len) (i32.load (i32.const 8))))
      (br $l)))
    (i32.const 0))

  (func $puts (param $fd i32) (param $p i32)
    (drop (call $write (local.get $fd) (local.get $p) (call $strlen (local.get $p)))))

  ;; Writes n in decimal.
  (func $putnum (param $fd i32) (param $n i32) (local $p i32) (local $neg i32)
    (local.set $p (i32.const 1023))
    (if (i32.lt_s (local.get $n) (i32.const 0))
      (then (local.set $neg (i32.const 1)) (local.set $n (i32.sub (i32.const 0) (local.get $n)))))
    (loop $l
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $l (local.get $n)))
    (if (local.get $neg) (then
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.const 45))))
    (drop (call $write (local.get $fd) (local.get $p) (i32.sub (i32.const 1023) (local.get $p)))))

  ;; On a non-zero errno: "kvtool: OP: errno N" on stderr and exit N.
  (func $check (param $e i32)
    (if (i32.eqz (local.get $e)) (then (return)))
    (call $puts (i32.const 2) (i32.const 200))
    (call $puts (i32.const 2) (global.get $op))
    (call $puts (i32.const 2) (i32.const 212))
    (call $putnum (i32.const 2) (local.get $e))
    (call $puts (i32.const 2) (i32.const 224))
    (call $proc_exit (local.get $e))
    (unreachable))

  (func $arg (param $i i32) (result i32)
    (if (i32.ge_u (local.get $i) (global.get $argc)) (then
      (global.set $op (i32.const 236))
      (call $check (i32.const 28)))) ;; EINVAL: missing argument
    (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))))

  (func $atoi (param $p i32) (result i32) (local $n i32) (local $c i32)
    (block $done (loop $l
      (local.set $c (i32.load8_u (local.get $p)))
      (br_if $done (i32.or (i32.lt_u (local.get $c) (i32.const 48)) (i32.gt_u (local.get $c) (i32.const 57))))
      (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
    (local.get $n))

  ;; Seconds with an optional fraction ("0.2", "3600.123") to milliseconds, as i64.
  (func $seconds_ms (param $p i32) (result i64) (local $ms i64) (local $c i32) (local $scale i64)
    (local.set $ms (i64.mul (i64.extend_i32_u (call $atoi (local.get $p))) (i64.const 1000)))
    (block $done (loop $l
      (local.set $c (i32.load8_u (local.get $p)))
      (br_if $done (i32.eqz (local.get $c)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $l (i32.ne (local.get $c) (i32.const 46)))))
    (local.set $scale (i64.const 100))
    (block $done (loop $l
      (local.set $c (i32.load8_u (local.get $p)))
      (br_if $done (i32.or (i32.lt_u (local.get $c) (i32.const 48)) (i32.gt_u (local.get $c) (i32.const 57))))
      (local.set $ms (i64.add (local.get $ms) (i64.mul (local.get $scale) (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48))))))
      (local.set $scale (i64.div_u (local.get $scale) (i64.const 10)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
    (local.get $ms))

  ;; Decodes backslash escapes of s into 131072..; returns the length.
  (func $unescape (param $s i32) (result i32) (local $o i32) (local $c i32) (local $v i32) (local $k i32)
    (local.set $o (i32.const 131072))
    (block $done (loop $l
      (local.set $c (i32.load8_u (local.get $s)))
      (br_if $done (i32.eqz (local.get $c)))
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (if (i32.eq (local.get $c) (i32.const 92)) (then
        (local.set $c (i32.load8_u (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (if (i32.eq (local.get $c) (i32.const 110)) (then (local.set $c (i32.const 10)))
        (else (if (i32.eq (local.get $c) (i32.const 116)) (then (local.set $c (i32.const 9)))
        (else (if (i32.and (i32.ge_u (local.get $c) (i32.const 48)) (i32.le_u (local.get $c) (i32.const 55))) (then
          (local.set $v (i32.sub (local.get $c) (i32.const 48)))
          (local.set $k (i32.const 1))
          (block $oct (loop $ol
            (br_if $oct (i32.ge_u (local.get $k) (i32.const 3)))
            (local.set $c (i32.load8_u (local.get $s)))
            (br_if $oct (i32.or (i32.lt_u (local.get $c) (i32.const 48)) (i32.gt_u (local.get $c) (i32.const 55))))
            (local.set $v (i32.add (i32.shl (local.get $v) (i32.const 3)) (i32.sub (local.get $c) (i32.const 48))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ol)))
          (local.set $c (local.get $v))))))))))
      (i32.store8 (local.get $o) (local.get $c))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $l)))
    (i32.sub (local.get $o) (i32.const 131072)))

  ;; Whether preopen name n (length len) is a prefix of absolute path p, at a name boundary.
  (func $prefix (param $n i32) (param $len i32) (param $p i32) (result i32) (local $i i32) (local $c i32)
    (if (i32.and (i32.eq (local.get $len) (i32.const 1)) (i32.eq (i32.load8_u (local.get $n)) (i32.const 47)))
      (then (return (i32.const 1))))
    (block $ne (loop $l
      (br_if $ne (i32.ge_u (local.get $i) (local.get $len)))
      (br_if $ne (i32.ne (i32.load8_u (i32.add (local.get $n) (local.get $i))) (i32.load8_u (i32.add (local.get $p) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (if (i32.lt_u (local.get $i) (local.get $len)) (then (return (i32.const 0))))
    (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $len))))
    (i32.or (i32.eqz (local.get $c)) (i32.eq (local.get $c) (i32.const 47))))

  ;; The preopen for path p, as wasi-libc picks it; sets $rel to the path inside it.
  (func $dirfd (param $p i32) (result i32) (local $fd i32) (local $len i32) (local $best i32) (local $bestlen i32)
    (local.set $best (i32.const -1))
    (local.set $fd (i32.const 3))
    (block $end (loop $l
      (br_if $end (call $fd_prestat_get (local.get $fd) (i32.const 16)))
      (local.set $len (i32.load (i32.const 20)))
      (if (i32.lt_u (local.get $len) (i32.const 400)) (then
        (drop (call $fd_prestat_dir_name (local.get $fd) (i32.const 600) (local.get $len)))
        (i32.store8 (i32.add (i32.const 600) (local.get $len)) (i32.const 0))
        (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 47))
          (then
            (if (i32.and (call $prefix (i32.const 600) (local.get $len) (local.get $p))
                         (i32.or (i32.lt_s (local.get $best) (i32.const 0)) (i32.gt_u (local.get $len) (local.get $bestlen))))
              (then (local.set $best (local.get $fd)) (local.set $bestlen (local.get $len)))))
          (else
            (if (i32.and (i32.lt_s (local.get $best) (i32.const 0)) (call $streq (i32.const 600) (i32.const 236)))
              (then (local.set $best (local.get $fd)) (local.set $bestlen (i32.const 0))))))))
      (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
      (br $l)))
    (if (i32.lt_s (local.get $best) (i32.const 0)) (then (call $check (i32.const 76)))) ;; ENOTCAPABLE
    (local.set $p (i32.add (local.get $p) (local.get $bestlen)))
    (block $done (loop $l
      (br_if $done (i32.ne (i32.load8_u (local.get $p)) (i32.const 47)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
    (if (i32.eqz (i32.load8_u (local.get $p))) (then (local.set $p (i32.const 236))))
    (global.set $rel (local.get $p))
    (local.get $best))

  ;; Opens path p with these open flags and rights, following symlinks; exits on error.
  (func $open (param $p i32) (param $oflags i32) (param $rights i64) (param $fdflags i32) (result i32) (local $dir i32)
    (local.set $dir (call $dirfd (local.get $p)))
    (call $check (call $path_open (local.get $dir) (i32.const 1) (global.get $rel) (call $strlen (global.get $rel))
      (local.get $oflags) (local.get $rights) (i64.const 0) (local.get $fdflags) (i32.const 24)))
    (i32.load (i32.const 24)))

  ;; Copies fd to stdout until end of file.
  (func $copy (param $fd i32) (local $n i32)
    (loop $l
      (i32.store (i32.const 32) (i32.const 65536))
      (i32.store (i32.const 36) (i32.const 65536))
      (call $check (call $fd_read (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 40)))
      (local.set $n (i32.load (i32.const 40)))
      (if (i32.gt_s (local.get $n) (i32.const 0)) (then
        (call $check (call $write (i32.const 1) (i32.const 65536) (local.get $n)))
        (br $l)))))

  (func $zeros (param $fd i32) (param $n i32) (local $k i32)
    (memory.fill (i32.const 65536) (i32.const 0) (i32.const 65536))
    (block $done (loop $l
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (local.set $k (select (i32.const 65536) (local.get $n) (i32.gt_s (local.get $n) (i32.const 65536))))
      (call $check (call $write (local.get $fd) (i32.const 65536) (local.get $k)))
      (local.set $n (i32.sub (local.get $n) (local.get $k)))
      (br $l))))

  (func $sleep (param $ms i64)
    (memory.fill (i32.const 48) (i32.const 0) (i32.const 48))
    (i32.store (i32.const 64) (i32.const 1)) ;; monotonic clock
    (i64.store (i32.const 72) (i64.mul (local.get $ms) (i64.const 1000000)))
    (call $check (call $poll_oneoff (i32.const 48) (i32.const 96) (i32.const 1) (i32.const 44))))

  (func $print_list (param $table i32) (param $count i32) (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (call $puts (i32.const 1) (i32.load (i32.add (local.get $table) (i32.shl (local.get $i) (i32.const 2)))))
      (call $puts (i32.const 1) (i32.const 224))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  (func $env
    (call $check (call $environ_sizes_get (i32.const 48) (i32.const 52)))
    (call $check (call $environ_get (i32.const 32768) (i32.const 36864)))
    (call $print_list (i32.const 32768) (i32.load (i32.const 48))))

  (func $pwd
    (call $check (call $fd_prestat_get (i32.const 3) (i32.const 16)))
    (call $check (call $fd_prestat_dir_name (i32.const 3) (i32.const 600) (i32.load (i32.const 20))))
    (drop (call $write (i32.const 1) (i32.const 600) (i32.load (i32.const 20))))
    (call $puts (i32.const 1) (i32.const 224)))

  ;; Runs the operation at argv[i]; returns the index of the next one.
  (func $run (param $i i32) (result i32) (local $o i32) (local $fd i32) (local $n i32) (local $dir i32)
    (local.set $o (call $arg (local.get $i)))
    (global.set $op (local.get $o))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (if (call $streq (local.get $o) (i32.const 300)) (then ;; out
      (call $check (call $write (i32.const 1) (i32.const 131072) (call $unescape (call $arg (local.get $i)))))
      (return (i32.add (local.get $i) (i32.const 1)))))
    (if (call $streq (local.get $o) (i32.const 304)) (then ;; err
      (call $check (call $write (i32.const 2) (i32.const 131072) (call $unescape (call $arg (local.get $i)))))
      (return (i32.add (local.get $i) (i32.const 1)))))
    (if (call $streq (local.get $o) (i32.const 308)) (then ;; cat
      (call $copy (i32.const 0))
      (return (local.get $i))))
    (if (call $streq (local.get $o) (i32.const 312)) (then ;; read
      (local.set $fd (call $open (call $arg (local.get $i)) (i32.const 0) (i64.const 2) (i32.const 0)))
      (call $copy (local.get $fd))
      (drop (call $fd_close (local.get $fd)))
      (return (i32.add (local.get $i) (i32.const 1)))))
    (if (call $streq (local.get $o) (i32.const 320)) (then ;; write
      (local.set $fd (call $open (call $arg (local.get $i)) (i32.const 9) (i64.const 64) (i32.const 0)))
      (call $check (call $write (local.get $fd) (i32.const 131072) (call $unescape (call $arg (i32.add (local.get $i) (i32.const 1))))))
      (drop (call $fd_close (local.get $fd)))
      (return (i32.add (local.get $i) (i32.const 2)))))
    (if (call $streq (local.get $o) (i32.const 452)) (then ;; fill
      (local.set $fd (call $open (call $arg (local.get $i)) (i32.const 9) (i64.const 64) (i32.const 0)))
      (call $zeros (local.get $fd) (call $atoi (call $arg (i32.add (local.get $i) (i32.const 1)))))
      (drop (call $fd_close (local.get $fd)))
      (return (i32.add (local.get $i) (i32.const 2)))))
    (if (call $streq (local.get $o) (i32.const 328)) (then ;; append
      (local.set $fd (call $open (call $arg (local.get $i)) (i32.const 1) (i64.const 64) (i32.const 1)))
      (call $check (call $write (local.get $fd) (i32.const 131072) (call $unescape (call $arg (i32.add (local.get $i) (i32.const 1))))))
      (drop (call $fd_close (local.get $fd)))
      (return (i32.add (local.get $i) (i32.const 2)))))
    (if (call $streq (local.get $o) (i32.const 336)) (then ;; zeros
      (call $zeros (i32.const 1) (call $atoi (call $arg (local.get $i))))
      (return (i32.add (local.get $i) (i32.const 1)))))
    (if (call $streq (local.get $o) (i32.const 344)) (then ;; zeros2
      (call $zeros (i32.const 2) (call $atoi (call $arg (local.get $i))))
      (return (i32.add (local.get $i) (i32.const 1)))))
    (if (call $streq (local.get $o) (i32.const 352)) (then ;; exit
      (call $proc_exit (call $atoi (call $arg (local.get $i))))
      (unreachable)))
    (if (call $streq (local.get $o) (i32.const 360)) (then ;; args
      (call $print_list (i32.const 1024) (global.get $argc))
      (return (local.get $i))))
    (if (call $streq (local.get $o) (i32.const 368)) (then ;; env
      (call $env)
      (return (local.get $i))))
    (if (call $streq (local.get $o) (i32.const 372)) (then ;; pwd
      (call $pwd)
      (return (local.get $i))))
    (if (call $streq (local.get $o) (i32.const 376)) (then ;; sleep
      (call $sleep (call $seconds_ms (call $arg (local.get $i))))
      (return (i32.add (local.get $i) (i32.const 1)))))
    (if (call $streq (local.get $o) (i32.const 384)) (then ;; loop
      (loop $spin (br $spin))))
    (if (call $streq (local.get $o) (i32.const 392)) (then ;; grow
      (local.set $n (memory.grow (call $atoi (call $arg (local.get $i)))))
      (call $putnum (i32.const 1) (local.get $n))
      (call $puts (i32.const 1) (i32.const 224))
      (if (i32.lt_s (local.get $n) (i32.const 0)) (then (call $proc_exit (i32.const 1))))
      (return (i32.add (local.get $i) (i32.const 1)))))
    (if (call $streq (local.get $o) (i32.const 400)) (then ;; trap
      (unreachable)))
    (if (call $streq (local.get $o) (i32.const 408)) (then ;; symlink T P
      (local.set $dir (call $dirfd (call $arg (i32.add (local.get $i) (i32.const 1)))))
      (local.set $n (call $arg (local.get $i)))
      (call $check (call $path_symlink (local.get $n) (call $strlen (local.get $n))
        (local.get $dir) (global.get $rel) (call $strlen (global.get $rel))))
      (return (i32.add (local.get $i) (i32.const 2)))))
    (if (call $streq (local.get $o) (i32.const 416)) (then ;; link E P
      (local.set $fd (call $dirfd (call $arg (local.get $i))))
      (local.set $n (global.get $rel))
      (local.set $dir (call $dirfd (call $arg (i32.add (local.get $i) (i32.const 1)))))
      (call $check (call $path_link (local.get $fd) (i32.const 0) (local.get $n) (call $strlen (local.get $n))
        (local.get $dir) (global.get $rel) (call $strlen (global.get $rel))))
      (return (i32.add (local.get $i) (i32.const 2)))))
    (if (call $streq (local.get $o) (i32.const 424)) (then ;; rm
      (local.set $dir (call $dirfd (call $arg (local.get $i))))
      (call $check (call $path_unlink_file (local.get $dir) (global.get $rel) (call $strlen (global.get $rel))))
      (return (i32.add (local.get $i) (i32.const 1)))))
    (if (call $streq (local.get $o) (i32.const 428)) (then ;; mkdir
      (local.set $dir (call $dirfd (call $arg (local.get $i))))
      (call $check (call $path_create_directory (local.get $dir) (global.get $rel) (call $strlen (global.get $rel))))
      (return (i32.add (local.get $i) (i32.const 1)))))
    (call $check (i32.const 52)) ;; ENOSYS: unknown operation
    (local.get $i))

  (data (i32.const 300) "out")
  (data (i32.const 304) "err")
  (data (i32.const 308) "cat")
  (data (i32.const 312) "read")
  (data (i32.const 320) "write")
  (data (i32.const 328) "append")
  (data (i32.const 336) "zeros")
  (data (i32.const 344) "zeros2")
  (data (i32.const 352) "exit")
  (data (i32.const 360) "args")
  (data (i32.const 368) "env")
  (data (i32.const 372) "pwd")
  (data (i32.const 376) "sleep")
  (data (i32.const 384) "loop")
  (data (i32.const 392) "grow")
  (data (i32.const 400) "trap")
  (data (i32.const 408) "symlink")
  (data (i32.const 416) "link")
  (data (i32.const 424) "rm")
  (data (i32.const 428) "mkdir")
  (data (i32.const 436) "true")
  (data (i32.const 444) "echo")
  (data (i32.const 452) "fill")

  ;; The base name of argv[0] without ".wasm", copied to 464..; returns its address.
  (func $name (result i32) (local $p i32) (local $s i32) (local $len i32)
    (local.set $p (call $arg (i32.const 0)))
    (local.set $s (local.get $p))
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (local.get $p))))
      (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 47)) (then (local.set $s (i32.add (local.get $p) (i32.const 1)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
    (local.set $len (call $strlen (local.get $s)))
    (memory.copy (i32.const 464) (local.get $s) (local.get $len))
    (i32.store8 (i32.add (i32.const 464) (local.get $len)) (i32.const 0))
    (if (i32.gt_u (local.get $len) (i32.const 5)) (then
      (if (i32.eq (i32.load8_u (i32.add (i32.const 459) (local.get $len))) (i32.const 46))
        (then (i32.store8 (i32.add (i32.const 459) (local.get $len)) (i32.const 0))))))
    (i32.const 464))

  (func (export "_start") (local $i i32) (local $n i32)
    (call $check (call $args_sizes_get (i32.const 48) (i32.const 52)))
    (global.set $argc (i32.load (i32.const 48)))
    (call $check (call $args_get (i32.const 1024) (i32.const 4096)))
    (local.set $n (call $name))
    (if (call $streq (local.get $n) (i32.const 436)) (then (return))) ;; true
    (if (call $streq (local.get $n) (i32.const 368)) (then (call $env) (return)))
    (if (call $streq (local.get $n) (i32.const 372)) (then (call $pwd) (return)))
    (if (call $streq (local.get $n) (i32.const 376)) (then
      (call $sleep (call $seconds_ms (call $arg (i32.const 1)))) (return)))
    (if (call $streq (local.get $n) (i32.const 308)) (then ;; cat [FILE...]
      (if (i32.lt_u (global.get $argc) (i32.const 2)) (then (call $copy (i32.const 0)) (return)))
      (local.set $i (i32.const 1))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (global.get $argc)))
        (global.set $op (i32.const 312))
        (local.set $n (call $open (call $arg (local.get $i)) (i32.const 0) (i64.const 2) (i32.const 0)))
        (call $copy (local.get $n))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (return)))
    (if (call $streq (local.get $n) (i32.const 444)) (then ;; echo ARGS...
      (local.set $i (i32.const 1))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (global.get $argc)))
        (if (i32.gt_u (local.get $i) (i32.const 1)) (then (call $puts (i32.const 1) (i32.const 232))))
        (call $puts (i32.const 1) (call $arg (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (call $puts (i32.const 1) (i32.const 224))
      (return)))
    (local.set $i (i32.const 1))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (global.get $argc)))
      (local.set $i (call $run (local.get $i)))
      (br $l))))
)
