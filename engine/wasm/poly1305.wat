;; Poly1305 (RFC 8439 section 2.5) with five 26-bit limbs and 64-bit products. Compiled to
;; build/wasm/poly1305.wasm by scripts/build-wasm.mjs.
;;
;; Memory layout (byte offsets):
;;    0  the 32-byte one-time key r || s, written by the caller before `init` (which erases it)
;;   32  the 16-byte tag, written by `finish`
;;   64  message blocks, copied in by the caller (up to 64 KiB at a time)
;;
;; Bounds: after each block the limbs are below 2^26 (limb 1 below 2^26 + 2^9); adding a message
;; block keeps them below 2^27, and each product sum is at most 5 * 2^27 * 5 * 2^26 < 2^58.
(module
  (memory (export "memory") 2)

  (global $r0 (mut i64) (i64.const 0)) (global $r1 (mut i64) (i64.const 0))
  (global $r2 (mut i64) (i64.const 0)) (global $r3 (mut i64) (i64.const 0))
  (global $r4 (mut i64) (i64.const 0))
  (global $h0 (mut i64) (i64.const 0)) (global $h1 (mut i64) (i64.const 0))
  (global $h2 (mut i64) (i64.const 0)) (global $h3 (mut i64) (i64.const 0))
  (global $h4 (mut i64) (i64.const 0))
  (global $pad0 (mut i64) (i64.const 0)) (global $pad1 (mut i64) (i64.const 0))

  ;; Starts a MAC: clamps r into limbs, keeps s, clears the accumulator, erases the key bytes.
  (func (export "init")
    (local $t0 i64) (local $t1 i64)
    (local.set $t0 (i64.load (i32.const 0)))
    (local.set $t1 (i64.load (i32.const 8)))
    (global.set $r0 (i64.and (local.get $t0) (i64.const 0x3ffffff)))
    (global.set $r1 (i64.and (i64.shr_u (local.get $t0) (i64.const 26)) (i64.const 0x3ffff03)))
    (global.set $r2 (i64.and (i64.or (i64.shr_u (local.get $t0) (i64.const 52)) (i64.shl (local.get $t1) (i64.const 12))) (i64.const 0x3ffc0ff)))
    (global.set $r3 (i64.and (i64.shr_u (local.get $t1) (i64.const 14)) (i64.const 0x3f03fff)))
    (global.set $r4 (i64.and (i64.shr_u (local.get $t1) (i64.const 40)) (i64.const 0x00fffff)))
    (global.set $pad0 (i64.load (i32.const 16)))
    (global.set $pad1 (i64.load (i32.const 24)))
    (global.set $h0 (i64.const 0)) (global.set $h1 (i64.const 0)) (global.set $h2 (i64.const 0))
    (global.set $h3 (i64.const 0)) (global.set $h4 (i64.const 0))
    (i64.store (i32.const 0) (i64.const 0)) (i64.store (i32.const 8) (i64.const 0))
    (i64.store (i32.const 16) (i64.const 0)) (i64.store (i32.const 24) (i64.const 0)))

  ;; Absorbs the 16-byte blocks at [ptr, end). `hibit` is 1 for full blocks; 0 for the last,
  ;; partial block, which the caller pads with a 1 byte and zeros.
  (func (export "blocks") (param $ptr i32) (param $end i32) (param $hibit i32)
    (local $r0 i64) (local $r1 i64) (local $r2 i64) (local $r3 i64) (local $r4 i64)
    (local $s1 i64) (local $s2 i64) (local $s3 i64) (local $s4 i64)
    (local $h0 i64) (local $h1 i64) (local $h2 i64) (local $h3 i64) (local $h4 i64)
    (local $d0 i64) (local $d1 i64) (local $d2 i64) (local $d3 i64) (local $d4 i64)
    (local $w0 i64) (local $w1 i64) (local $top i64)
    (if (i32.ge_u (local.get $ptr) (local.get $end)) (then (return)))
    (local.set $top (i64.shl (i64.extend_i32_u (local.get $hibit)) (i64.const 24)))
    (local.set $r0 (global.get $r0)) (local.set $r1 (global.get $r1)) (local.set $r2 (global.get $r2))
    (local.set $r3 (global.get $r3)) (local.set $r4 (global.get $r4))
    ;; 2^130 = 5 modulo 2^130 - 5: limb products that wrap past limb 4 come back times 5.
    (local.set $s1 (i64.mul (local.get $r1) (i64.const 5))) (local.set $s2 (i64.mul (local.get $r2) (i64.const 5)))
    (local.set $s3 (i64.mul (local.get $r3) (i64.const 5))) (local.set $s4 (i64.mul (local.get $r4) (i64.const 5)))
    (local.set $h0 (global.get $h0)) (local.set $h1 (global.get $h1)) (local.set $h2 (global.get $h2))
    (local.set $h3 (global.get $h3)) (local.set $h4 (global.get $h4))
    (loop $block
      ;; h += block
      (local.set $w0 (i64.load (local.get $ptr)))
      (local.set $w1 (i64.load offset=8 (local.get $ptr)))
      (local.set $h0 (i64.add (local.get $h0) (i64.and (local.get $w0) (i64.const 0x3ffffff))))
      (local.set $h1 (i64.add (local.get $h1) (i64.and (i64.shr_u (local.get $w0) (i64.const 26)) (i64.const 0x3ffffff))))
      (local.set $h2 (i64.add (local.get $h2) (i64.and (i64.or (i64.shr_u (local.get $w0) (i64.const 52)) (i64.shl (local.get $w1) (i64.const 12))) (i64.const 0x3ffffff))))
      (local.set $h3 (i64.add (local.get $h3) (i64.and (i64.shr_u (local.get $w1) (i64.const 14)) (i64.const 0x3ffffff))))
      (local.set $h4 (i64.add (local.get $h4) (i64.or (i64.shr_u (local.get $w1) (i64.const 40)) (local.get $top))))
      ;; d = h * r
      (local.set $d0 (i64.add (i64.add
        (i64.add (i64.mul (local.get $h0) (local.get $r0)) (i64.mul (local.get $h1) (local.get $s4)))
        (i64.add (i64.mul (local.get $h2) (local.get $s3)) (i64.mul (local.get $h3) (local.get $s2))))
        (i64.mul (local.get $h4) (local.get $s1))))
      (local.set $d1 (i64.add (i64.add
        (i64.add (i64.mul (local.get $h0) (local.get $r1)) (i64.mul (local.get $h1) (local.get $r0)))
        (i64.add (i64.mul (local.get $h2) (local.get $s4)) (i64.mul (local.get $h3) (local.get $s3))))
        (i64.mul (local.get $h4) (local.get $s2))))
      (local.set $d2 (i64.add (i64.add
        (i64.add (i64.mul (local.get $h0) (local.get $r2)) (i64.mul (local.get $h1) (local.get $r1)))
        (i64.add (i64.mul (local.get $h2) (local.get $r0)) (i64.mul (local.get $h3) (local.get $s4))))
        (i64.mul (local.get $h4) (local.get $s3))))
      (local.set $d3 (i64.add (i64.add
        (i64.add (i64.mul (local.get $h0) (local.get $r3)) (i64.mul (local.get $h1) (local.get $r2)))
        (i64.add (i64.mul (local.get $h2) (local.get $r1)) (i64.mul (local.get $h3) (local.get $r0))))
        (i64.mul (local.get $h4) (local.get $s4))))
      (local.set $d4 (i64.add (i64.add
        (i64.add (i64.mul (local.get $h0) (local.get $r4)) (i64.mul (local.get $h1) (local.get $r3)))
        (i64.add (i64.mul (local.get $h2) (local.get $r2)) (i64.mul (local.get $h3) (local.get $r1))))
        (i64.mul (local.get $h4) (local.get $r0))))
      ;; Partial carry: back to 26-bit limbs, except limb 1 which may keep a few extra bits.
      (local.set $d1 (i64.add (local.get $d1) (i64.shr_u (local.get $d0) (i64.const 26))))
      (local.set $d2 (i64.add (local.get $d2) (i64.shr_u (local.get $d1) (i64.const 26))))
      (local.set $d3 (i64.add (local.get $d3) (i64.shr_u (local.get $d2) (i64.const 26))))
      (local.set $d4 (i64.add (local.get $d4) (i64.shr_u (local.get $d3) (i64.const 26))))
      (local.set $h0 (i64.add (i64.and (local.get $d0) (i64.const 0x3ffffff))
        (i64.mul (i64.shr_u (local.get $d4) (i64.const 26)) (i64.const 5))))
      (local.set $h1 (i64.add (i64.and (local.get $d1) (i64.const 0x3ffffff)) (i64.shr_u (local.get $h0) (i64.const 26))))
      (local.set $h0 (i64.and (local.get $h0) (i64.const 0x3ffffff)))
      (local.set $h2 (i64.and (local.get $d2) (i64.const 0x3ffffff)))
      (local.set $h3 (i64.and (local.get $d3) (i64.const 0x3ffffff)))
      (local.set $h4 (i64.and (local.get $d4) (i64.const 0x3ffffff)))
      (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
      (br_if $block (i32.lt_u (local.get $ptr) (local.get $end))))
    (global.set $h0 (local.get $h0)) (global.set $h1 (local.get $h1)) (global.set $h2 (local.get $h2))
    (global.set $h3 (local.get $h3)) (global.set $h4 (local.get $h4)))

  ;; Reduces h modulo 2^130 - 5, adds s modulo 2^128, writes the tag at 32 and clears the state.
  (func (export "finish")
    (local $h0 i64) (local $h1 i64) (local $h2 i64) (local $h3 i64) (local $h4 i64)
    (local $g0 i64) (local $g1 i64) (local $g2 i64) (local $g3 i64) (local $g4 i64)
    (local $c i64) (local $use i64) (local $keep i64) (local $lo i64) (local $hi i64) (local $sum i64)
    (local.set $h0 (global.get $h0)) (local.set $h1 (global.get $h1)) (local.set $h2 (global.get $h2))
    (local.set $h3 (global.get $h3)) (local.set $h4 (global.get $h4))
    ;; Full carry: every limb below 2^26, except that limb 1 may reach 2^26.
    (local.set $c (i64.shr_u (local.get $h1) (i64.const 26))) (local.set $h1 (i64.and (local.get $h1) (i64.const 0x3ffffff)))
    (local.set $h2 (i64.add (local.get $h2) (local.get $c)))
    (local.set $c (i64.shr_u (local.get $h2) (i64.const 26))) (local.set $h2 (i64.and (local.get $h2) (i64.const 0x3ffffff)))
    (local.set $h3 (i64.add (local.get $h3) (local.get $c)))
    (local.set $c (i64.shr_u (local.get $h3) (i64.const 26))) (local.set $h3 (i64.and (local.get $h3) (i64.const 0x3ffffff)))
    (local.set $h4 (i64.add (local.get $h4) (local.get $c)))
    (local.set $c (i64.shr_u (local.get $h4) (i64.const 26))) (local.set $h4 (i64.and (local.get $h4) (i64.const 0x3ffffff)))
    (local.set $h0 (i64.add (local.get $h0) (i64.mul (local.get $c) (i64.const 5))))
    (local.set $c (i64.shr_u (local.get $h0) (i64.const 26))) (local.set $h0 (i64.and (local.get $h0) (i64.const 0x3ffffff)))
    (local.set $h1 (i64.add (local.get $h1) (local.get $c)))
    ;; g = h + 5 - 2^130; take g when it is not negative (h >= 2^130 - 5).
    (local.set $g0 (i64.add (local.get $h0) (i64.const 5)))
    (local.set $c (i64.shr_u (local.get $g0) (i64.const 26))) (local.set $g0 (i64.and (local.get $g0) (i64.const 0x3ffffff)))
    (local.set $g1 (i64.add (local.get $h1) (local.get $c)))
    (local.set $c (i64.shr_u (local.get $g1) (i64.const 26))) (local.set $g1 (i64.and (local.get $g1) (i64.const 0x3ffffff)))
    (local.set $g2 (i64.add (local.get $h2) (local.get $c)))
    (local.set $c (i64.shr_u (local.get $g2) (i64.const 26))) (local.set $g2 (i64.and (local.get $g2) (i64.const 0x3ffffff)))
    (local.set $g3 (i64.add (local.get $h3) (local.get $c)))
    (local.set $c (i64.shr_u (local.get $g3) (i64.const 26))) (local.set $g3 (i64.and (local.get $g3) (i64.const 0x3ffffff)))
    (local.set $g4 (i64.sub (i64.add (local.get $h4) (local.get $c)) (i64.const 0x4000000)))
    (local.set $use (i64.sub (i64.shr_u (local.get $g4) (i64.const 63)) (i64.const 1)))
    (local.set $keep (i64.xor (local.get $use) (i64.const -1)))
    (local.set $h0 (i64.or (i64.and (local.get $g0) (local.get $use)) (i64.and (local.get $h0) (local.get $keep))))
    (local.set $h1 (i64.or (i64.and (local.get $g1) (local.get $use)) (i64.and (local.get $h1) (local.get $keep))))
    (local.set $h2 (i64.or (i64.and (local.get $g2) (local.get $use)) (i64.and (local.get $h2) (local.get $keep))))
    (local.set $h3 (i64.or (i64.and (local.get $g3) (local.get $use)) (i64.and (local.get $h3) (local.get $keep))))
    (local.set $h4 (i64.or (i64.and (local.get $g4) (local.get $use)) (i64.and (local.get $h4) (local.get $keep))))
    ;; h modulo 2^128 as two 64-bit words, by additions so that a limb 1 of 2^26 carries.
    (local.set $lo (i64.add (local.get $h0) (i64.shl (local.get $h1) (i64.const 26))))
    (local.set $sum (i64.add (local.get $lo) (i64.shl (local.get $h2) (i64.const 52))))
    (local.set $hi (i64.add (i64.add
      (i64.add (i64.shr_u (local.get $h2) (i64.const 12)) (i64.shl (local.get $h3) (i64.const 14)))
      (i64.shl (local.get $h4) (i64.const 40)))
      (i64.extend_i32_u (i64.lt_u (local.get $sum) (local.get $lo)))))
    ;; + s
    (local.set $lo (i64.add (local.get $sum) (global.get $pad0)))
    (local.set $hi (i64.add (i64.add (local.get $hi) (global.get $pad1))
      (i64.extend_i32_u (i64.lt_u (local.get $lo) (local.get $sum)))))
    (i64.store (i32.const 32) (local.get $lo))
    (i64.store (i32.const 40) (local.get $hi))
    (global.set $r0 (i64.const 0)) (global.set $r1 (i64.const 0)) (global.set $r2 (i64.const 0))
    (global.set $r3 (i64.const 0)) (global.set $r4 (i64.const 0))
    (global.set $h0 (i64.const 0)) (global.set $h1 (i64.const 0)) (global.set $h2 (i64.const 0))
    (global.set $h3 (i64.const 0)) (global.set $h4 (i64.const 0))
    (global.set $pad0 (i64.const 0)) (global.set $pad1 (i64.const 0)))
)
