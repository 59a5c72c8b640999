;; Boundary search for restic's content-defined chunker, for degree-53 polynomials (the only
;; degree restic creates). Compiled to build/wasm/chunker.wasm by scripts/build-wasm.mjs.
;;
;; The digest at a byte is the Rabin fingerprint, modulo the polynomial P, of the 64 bytes that
;; end with it; a chunk may end after a byte whose digest has its low 20 bits zero. Because the
;; digest depends on those 64 bytes only, distant parts of a range can be hashed independently:
;; `scan` runs four lanes 4 KiB apart in lockstep, so the four dependency chains (shift, table
;; load, xor) overlap instead of waiting for each other.
;;
;; Memory layout (byte offsets):
;;       0  MOD: 256 little-endian u64, MOD[t] = (t * x^53 mod P) xor (t << 53)
;;    2048  OUT: 256 u64, OUT[o] = o * x^512 mod P
;;    8128  the 64 bytes before the data
;;    8192  the data, copied in by the caller (up to 64 KiB); `scan` may read up to 16 KiB past
;;          the end of a range (its result ignores what it finds there), so the memory has room
;;
;; One step, for byte b entering the window and byte o (64 bytes earlier) leaving it:
;;   d' = ((d << 8) | b) xor OUT[o] xor MOD[d >> 45]
;; This is restic's step (remove o, then shift b in and reduce) with the removal moved past the
;; shift, which is allowed because reduction modulo P is linear. MOD[t] also clears the 8 bits
;; that the shift pushed above bit 52. The address MOD + 8 * (d >> 45) is taken as
;; (d rotr 42) & 0x7f8, since d < 2^53.
(module
  (memory (export "memory") 2)

  ;; Fingerprint of the 64 bytes at [ptr, ptr + 64): the digest before the byte at ptr + 64.
  (func $fingerprint (param $ptr i32) (result i64)
    (local $d i64) (local $end i32)
    (local.set $end (i32.add (local.get $ptr) (i32.const 64)))
    (loop $bytes
      (local.set $d (i64.xor
        (i64.or (i64.shl (local.get $d) (i64.const 8)) (i64.load8_u (local.get $ptr)))
        (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d) (i64.const 42))) (i32.const 0x7f8)))))
      (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
      (br_if $bytes (i32.lt_u (local.get $ptr) (local.get $end))))
    (local.get $d))

  ;; One lane: d is the digest before the byte at ptr + 64. Steps through the bytes at
  ;; [ptr + 64, end + 64) and returns the position of the first one whose digest matches, or -1.
  (func $continue (param $d i64) (param $ptr i32) (param $end i32) (result i32)
    (if (i32.ge_u (local.get $ptr) (local.get $end)) (then (return (i32.const -1))))
    (loop $bytes
      (local.set $d (i64.xor (i64.xor
        (i64.or (i64.shl (local.get $d) (i64.const 8)) (i64.load8_u offset=64 (local.get $ptr)))
        (i64.load offset=2048 (i32.shl (i32.load8_u (local.get $ptr)) (i32.const 3))))
        (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d) (i64.const 42))) (i32.const 0x7f8)))))
      (if (i64.eqz (i64.and (local.get $d) (i64.const 0xfffff)))
        (then (return (i32.add (local.get $ptr) (i32.const 64)))))
      (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
      (br_if $bytes (i32.lt_u (local.get $ptr) (local.get $end))))
    (i32.const -1))

  ;; Returns the position of the first byte in [from, to) whose digest has its low 20 bits
  ;; zero, or -1. The 64 bytes before `from` must be in memory too.
  (func (export "scan") (param $from i32) (param $to i32) (result i32)
    (local $ptr i32) (local $stop i32) (local $end i32) (local $warm i32)
    (local $hit i32) (local $lane i32) (local $found i32)
    (local $d0 i64) (local $d1 i64) (local $d2 i64) (local $d3 i64)
    (local.set $ptr (i32.sub (local.get $from) (i32.const 64)))
    (local.set $stop (i32.sub (local.get $to) (i32.const 64)))
    ;; A short range is not worth four warm-ups.
    (if (i32.lt_u (i32.sub (local.get $to) (local.get $from)) (i32.const 4096))
      (then (return (call $continue (call $fingerprint (local.get $ptr)) (local.get $ptr) (local.get $stop)))))

    (block $match
      (loop $blocks
        ;; Lane j hashes the 4 KiB at ptr + 4096 j (positions of the leaving bytes). Warm up all
        ;; four digests together: the fingerprints of the 64 bytes before each lane.
        (local.set $d0 (i64.const 0)) (local.set $d1 (i64.const 0))
        (local.set $d2 (i64.const 0)) (local.set $d3 (i64.const 0))
        (local.set $warm (local.get $ptr))
        (local.set $end (i32.add (local.get $ptr) (i32.const 64)))
        (loop $warmup
          (local.set $d0 (i64.xor
            (i64.or (i64.shl (local.get $d0) (i64.const 8)) (i64.load8_u (local.get $warm)))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d0) (i64.const 42))) (i32.const 0x7f8)))))
          (local.set $d1 (i64.xor
            (i64.or (i64.shl (local.get $d1) (i64.const 8)) (i64.load8_u offset=4096 (local.get $warm)))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d1) (i64.const 42))) (i32.const 0x7f8)))))
          (local.set $d2 (i64.xor
            (i64.or (i64.shl (local.get $d2) (i64.const 8)) (i64.load8_u offset=8192 (local.get $warm)))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d2) (i64.const 42))) (i32.const 0x7f8)))))
          (local.set $d3 (i64.xor
            (i64.or (i64.shl (local.get $d3) (i64.const 8)) (i64.load8_u offset=12288 (local.get $warm)))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d3) (i64.const 42))) (i32.const 0x7f8)))))
          (local.set $warm (i32.add (local.get $warm) (i32.const 1)))
          (br_if $warmup (i32.lt_u (local.get $warm) (local.get $end))))

        (local.set $end (i32.add (local.get $ptr) (i32.const 4096)))
        (loop $bytes
          ;; Two bytes per lane per iteration. A match records the position of the leaving
          ;; byte (ptr or ptr + 1) and the lane; lanes before it have been checked up to there.
          (local.set $d0 (i64.xor (i64.xor
            (i64.or (i64.shl (local.get $d0) (i64.const 8)) (i64.load8_u offset=64 (local.get $ptr)))
            (i64.load offset=2048 (i32.shl (i32.load8_u (local.get $ptr)) (i32.const 3))))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d0) (i64.const 42))) (i32.const 0x7f8)))))
          (if (i64.eqz (i64.and (local.get $d0) (i64.const 0xfffff)))
            (then (local.set $hit (local.get $ptr)) (local.set $lane (i32.const 0)) (br $match)))
          (local.set $d1 (i64.xor (i64.xor
            (i64.or (i64.shl (local.get $d1) (i64.const 8)) (i64.load8_u offset=4160 (local.get $ptr)))
            (i64.load offset=2048 (i32.shl (i32.load8_u offset=4096 (local.get $ptr)) (i32.const 3))))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d1) (i64.const 42))) (i32.const 0x7f8)))))
          (if (i64.eqz (i64.and (local.get $d1) (i64.const 0xfffff)))
            (then (local.set $hit (local.get $ptr)) (local.set $lane (i32.const 1)) (br $match)))
          (local.set $d2 (i64.xor (i64.xor
            (i64.or (i64.shl (local.get $d2) (i64.const 8)) (i64.load8_u offset=8256 (local.get $ptr)))
            (i64.load offset=2048 (i32.shl (i32.load8_u offset=8192 (local.get $ptr)) (i32.const 3))))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d2) (i64.const 42))) (i32.const 0x7f8)))))
          (if (i64.eqz (i64.and (local.get $d2) (i64.const 0xfffff)))
            (then (local.set $hit (local.get $ptr)) (local.set $lane (i32.const 2)) (br $match)))
          (local.set $d3 (i64.xor (i64.xor
            (i64.or (i64.shl (local.get $d3) (i64.const 8)) (i64.load8_u offset=12352 (local.get $ptr)))
            (i64.load offset=2048 (i32.shl (i32.load8_u offset=12288 (local.get $ptr)) (i32.const 3))))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d3) (i64.const 42))) (i32.const 0x7f8)))))
          (if (i64.eqz (i64.and (local.get $d3) (i64.const 0xfffff)))
            (then (local.set $hit (local.get $ptr)) (local.set $lane (i32.const 3)) (br $match)))

          (local.set $d0 (i64.xor (i64.xor
            (i64.or (i64.shl (local.get $d0) (i64.const 8)) (i64.load8_u offset=65 (local.get $ptr)))
            (i64.load offset=2048 (i32.shl (i32.load8_u offset=1 (local.get $ptr)) (i32.const 3))))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d0) (i64.const 42))) (i32.const 0x7f8)))))
          (if (i64.eqz (i64.and (local.get $d0) (i64.const 0xfffff)))
            (then (local.set $hit (i32.add (local.get $ptr) (i32.const 1))) (local.set $lane (i32.const 0)) (br $match)))
          (local.set $d1 (i64.xor (i64.xor
            (i64.or (i64.shl (local.get $d1) (i64.const 8)) (i64.load8_u offset=4161 (local.get $ptr)))
            (i64.load offset=2048 (i32.shl (i32.load8_u offset=4097 (local.get $ptr)) (i32.const 3))))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d1) (i64.const 42))) (i32.const 0x7f8)))))
          (if (i64.eqz (i64.and (local.get $d1) (i64.const 0xfffff)))
            (then (local.set $hit (i32.add (local.get $ptr) (i32.const 1))) (local.set $lane (i32.const 1)) (br $match)))
          (local.set $d2 (i64.xor (i64.xor
            (i64.or (i64.shl (local.get $d2) (i64.const 8)) (i64.load8_u offset=8257 (local.get $ptr)))
            (i64.load offset=2048 (i32.shl (i32.load8_u offset=8193 (local.get $ptr)) (i32.const 3))))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d2) (i64.const 42))) (i32.const 0x7f8)))))
          (if (i64.eqz (i64.and (local.get $d2) (i64.const 0xfffff)))
            (then (local.set $hit (i32.add (local.get $ptr) (i32.const 1))) (local.set $lane (i32.const 2)) (br $match)))
          (local.set $d3 (i64.xor (i64.xor
            (i64.or (i64.shl (local.get $d3) (i64.const 8)) (i64.load8_u offset=12353 (local.get $ptr)))
            (i64.load offset=2048 (i32.shl (i32.load8_u offset=12289 (local.get $ptr)) (i32.const 3))))
            (i64.load (i32.and (i32.wrap_i64 (i64.rotr (local.get $d3) (i64.const 42))) (i32.const 0x7f8)))))
          (if (i64.eqz (i64.and (local.get $d3) (i64.const 0xfffff)))
            (then (local.set $hit (i32.add (local.get $ptr) (i32.const 1))) (local.set $lane (i32.const 3)) (br $match)))

          (local.set $ptr (i32.add (local.get $ptr) (i32.const 2)))
          (br_if $bytes (i32.lt_u (local.get $ptr) (local.get $end))))

        ;; No match in this block: on to the next 16 KiB. The last block may run past `to`.
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 12288)))
        (br_if $blocks (i32.lt_u (local.get $ptr) (local.get $stop))))
      (return (i32.const -1)))

    ;; A match in lane `lane` at leaving byte `hit`. Lanes before it cover earlier bytes and
    ;; were checked only up to `hit`: finish them first, in order.
    (block $resolved
      (local.set $found (i32.add (local.get $hit) (i32.const 64)))
      (br_if $resolved (i32.eqz (local.get $lane)))
      (local.set $found (call $continue (local.get $d0) (i32.add (local.get $hit) (i32.const 1)) (local.get $end)))
      (br_if $resolved (i32.ge_s (local.get $found) (i32.const 0)))
      (local.set $found (i32.add (local.get $hit) (i32.const 4160)))
      (br_if $resolved (i32.eq (local.get $lane) (i32.const 1)))
      (local.set $found (call $continue (local.get $d1) (i32.add (local.get $hit) (i32.const 4097)) (i32.add (local.get $end) (i32.const 4096))))
      (br_if $resolved (i32.ge_s (local.get $found) (i32.const 0)))
      (local.set $found (i32.add (local.get $hit) (i32.const 8256)))
      (br_if $resolved (i32.eq (local.get $lane) (i32.const 2)))
      (local.set $found (call $continue (local.get $d2) (i32.add (local.get $hit) (i32.const 8193)) (i32.add (local.get $end) (i32.const 8192))))
      (br_if $resolved (i32.ge_s (local.get $found) (i32.const 0)))
      (local.set $found (i32.add (local.get $hit) (i32.const 12352))))
    ;; A match found beyond the range does not count.
    (select (i32.const -1) (local.get $found) (i32.ge_u (local.get $found) (local.get $to))))
)
