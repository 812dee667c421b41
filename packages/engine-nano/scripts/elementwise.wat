;; engine-nano's elementwise kernels with an exponential: the causal softmax rows of attention, the SwiGLU
;; activation, and the log-softmax over the vocabulary with its gradient, on float32 data in this module's own memory (the caller copies blocks in and out).
;;
;; They compute exactly what the JavaScript loops they replace compute, bit for bit: the same float64
;; operations in the same order, float32 only where the JavaScript stores into a Float32Array. The
;; exponential is fdlibm's __ieee754_exp (the algorithm V8's Math.exp implements: argument reduction
;; x = k·ln2 + r with ln2 split in two, a degree-5 rational approximation on r, scaling by 2^k), evaluated
;; on two float64 lanes at a time; only +, −, ×, ÷ and exact bit operations, so every lane rounds as the
;; scalar code does. Lanes with |x| ≥ 700 (overflow, underflow, subnormal results, ±∞, NaN) take the scalar
;; function, which follows fdlibm's every branch.
(module
  ;; Math.log (one call per row of logSoftmaxRows)
  (import "env" "log" (func $log (param f64) (result f64)))
  (memory (export "memory") 1 65536)

  ;; fdlibm __ieee754_exp, scalar, all branches.
  (func $exp1 (export "exp") (param $x f64) (result f64)
    (local $hx i32) (local $xsb i32) (local $k i32) (local $kf f64) (local $hi f64) (local $lo f64)
    (local $t f64) (local $c f64) (local $y f64)
    (local.set $hx (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))))
    (local.set $xsb (i32.shr_u (local.get $hx) (i32.const 31)))
    (local.set $hx (i32.and (local.get $hx) (i32.const 0x7fffffff)))
    ;; |x| >= 709.78...: non-finite, overflow, underflow
    (if (i32.ge_u (local.get $hx) (i32.const 0x40862e42))
      (then
        (if (i32.ge_u (local.get $hx) (i32.const 0x7ff00000))
          (then
            (if (f64.ne (local.get $x) (local.get $x)) (then (return (f64.add (local.get $x) (local.get $x)))))
            (if (local.get $xsb) (then (return (f64.const 0))))
            (return (local.get $x))))
        (if (f64.gt (local.get $x) (f64.reinterpret_i64 (i64.const 0x40862e42fefa39ef)))
          (then (return (f64.const inf))))
        (if (f64.lt (local.get $x) (f64.reinterpret_i64 (i64.const 0xc0874910d52d3051)))
          (then (return (f64.const 0))))))
    ;; argument reduction
    (if (i32.gt_u (local.get $hx) (i32.const 0x3fd62e42))
      (then
        (if (i32.lt_u (local.get $hx) (i32.const 0x3ff0a2b2))
          (then (local.set $k (i32.sub (i32.const 1) (i32.shl (local.get $xsb) (i32.const 1)))))
          (else
            (local.set $k
              (i32.trunc_f64_s
                (f64.add
                  (f64.mul (f64.reinterpret_i64 (i64.const 0x3ff71547652b82fe)) (local.get $x))
                  (select (f64.const -0.5) (f64.const 0.5) (local.get $xsb)))))))
        (local.set $kf (f64.convert_i32_s (local.get $k)))
        ;; k·ln2hi is exact; for k = ±1 this is fdlibm's x ∓ ln2hi
        (local.set $hi (f64.sub (local.get $x) (f64.mul (local.get $kf) (f64.reinterpret_i64 (i64.const 0x3fe62e42fee00000)))))
        (local.set $lo (f64.mul (local.get $kf) (f64.reinterpret_i64 (i64.const 0x3dea39ef35793c76))))
        (local.set $x (f64.sub (local.get $hi) (local.get $lo))))
      (else
        ;; |x| < 2^-28
        (if (i32.lt_u (local.get $hx) (i32.const 0x3e300000))
          (then (return (f64.add (f64.const 1) (local.get $x)))))))
    (local.set $t (f64.mul (local.get $x) (local.get $x)))
    (local.set $c (call $poly (local.get $x) (local.get $t)))
    (if (i32.eqz (local.get $k))
      (then
        (return
          (f64.sub (f64.const 1)
            (f64.sub (f64.div (f64.mul (local.get $x) (local.get $c)) (f64.sub (local.get $c) (f64.const 2)))
              (local.get $x))))))
    (local.set $y
      (f64.sub (f64.const 1)
        (f64.sub
          (f64.sub (local.get $lo) (f64.div (f64.mul (local.get $x) (local.get $c)) (f64.sub (f64.const 2) (local.get $c))))
          (local.get $hi))))
    (if (i32.ge_s (local.get $k) (i32.const -1021))
      (then
        (if (i32.eq (local.get $k) (i32.const 1024))
          (then (return (f64.mul (f64.mul (local.get $y) (f64.const 2)) (f64.reinterpret_i64 (i64.const 0x7fe0000000000000))))))
        (return (f64.mul (local.get $y) (call $twoTo (local.get $k))))))
    (f64.mul
      (f64.mul (local.get $y) (call $twoTo (i32.add (local.get $k) (i32.const 1000))))
      (f64.reinterpret_i64 (i64.const 0x0170000000000000))))

  ;; c = x − t·(P1 + t·(P2 + t·(P3 + t·(P4 + t·P5))))
  (func $poly (param $x f64) (param $t f64) (result f64)
    (f64.sub (local.get $x)
      (f64.mul (local.get $t)
        (f64.add (f64.reinterpret_i64 (i64.const 0x3fc555555555553e))
          (f64.mul (local.get $t)
            (f64.add (f64.reinterpret_i64 (i64.const 0xbf66c16c16bebd93))
              (f64.mul (local.get $t)
                (f64.add (f64.reinterpret_i64 (i64.const 0x3f11566aaf25de2c))
                  (f64.mul (local.get $t)
                    (f64.add (f64.reinterpret_i64 (i64.const 0xbebbbd41c5d26bf1))
                      (f64.mul (local.get $t) (f64.reinterpret_i64 (i64.const 0x3e66376972bea4d0)))))))))))))

  ;; 2^k as a float64, for -1022 < k < 1024
  (func $twoTo (param $k i32) (result f64)
    (f64.reinterpret_i64 (i64.shl (i64.extend_i32_s (i32.add (local.get $k) (i32.const 1023))) (i64.const 52))))

  ;; exp of two lanes, each exactly $exp1 of that lane.
  (func $exp2 (param $x v128) (result v128)
    (local $abs v128) (local $sign v128) (local $A v128) (local $B v128) (local $T v128)
    (local $kf v128) (local $hi v128) (local $lo v128) (local $r v128) (local $t v128) (local $c v128)
    (local $r0 v128) (local $y v128) (local $twopk v128) (local $q v128)
    (local.set $abs (v128.and (local.get $x) (v128.const i64x2 0x7fffffffffffffff 0x7fffffffffffffff)))
    ;; |x| >= 700, ±∞, NaN: the scalar function, lane by lane
    (if (v128.any_true (i64x2.ge_s (local.get $abs) (v128.const i64x2 0x4085e00000000000 0x4085e00000000000)))
      (then
        (return
          (f64x2.replace_lane 1
            (f64x2.splat (call $exp1 (f64x2.extract_lane 0 (local.get $x))))
            (call $exp1 (f64x2.extract_lane 1 (local.get $x)))))))
    (local.set $sign (v128.and (local.get $x) (v128.const i64x2 0x8000000000000000 0x8000000000000000)))
    ;; the high word of |x| above 0x3fd62e42 (|x| > ln2/2), below 0x3ff0a2b2 (|x| < 1.5·ln2), below 0x3e300000 (|x| < 2^-28)
    (local.set $A (i64x2.ge_s (local.get $abs) (v128.const i64x2 0x3fd62e4300000000 0x3fd62e4300000000)))
    (local.set $B (i64x2.lt_s (local.get $abs) (v128.const i64x2 0x3ff0a2b200000000 0x3ff0a2b200000000)))
    (local.set $T (i64x2.lt_s (local.get $abs) (v128.const i64x2 0x3e30000000000000 0x3e30000000000000)))
    ;; k: ±1 below 1.5·ln2, else trunc(x/ln2 ± 0.5); 0 at or below ln2/2
    (local.set $kf
      (v128.and
        (v128.bitselect
          (v128.or (local.get $sign) (v128.const f64x2 1 1))
          (f64x2.trunc
            (f64x2.add
              (f64x2.mul (v128.const i64x2 0x3ff71547652b82fe 0x3ff71547652b82fe) (local.get $x))
              (v128.or (local.get $sign) (v128.const f64x2 0.5 0.5))))
          (local.get $B))
        (local.get $A)))
    (local.set $hi (f64x2.sub (local.get $x) (f64x2.mul (local.get $kf) (v128.const i64x2 0x3fe62e42fee00000 0x3fe62e42fee00000))))
    (local.set $lo (f64x2.mul (local.get $kf) (v128.const i64x2 0x3dea39ef35793c76 0x3dea39ef35793c76)))
    ;; k = 0: hi = x − 0 = x and lo = 0, so r = x as fdlibm leaves it
    (local.set $r (f64x2.sub (local.get $hi) (local.get $lo)))
    (local.set $t (f64x2.mul (local.get $r) (local.get $r)))
    (local.set $c
      (f64x2.sub (local.get $r)
        (f64x2.mul (local.get $t)
          (f64x2.add (v128.const i64x2 0x3fc555555555553e 0x3fc555555555553e)
            (f64x2.mul (local.get $t)
              (f64x2.add (v128.const i64x2 0xbf66c16c16bebd93 0xbf66c16c16bebd93)
                (f64x2.mul (local.get $t)
                  (f64x2.add (v128.const i64x2 0x3f11566aaf25de2c 0x3f11566aaf25de2c)
                    (f64x2.mul (local.get $t)
                      (f64x2.add (v128.const i64x2 0xbebbbd41c5d26bf1 0xbebbbd41c5d26bf1)
                        (f64x2.mul (local.get $t) (v128.const i64x2 0x3e66376972bea4d0 0x3e66376972bea4d0))))))))))))
    ;; one division serves both branches: (r·c)/(2 − c) is exactly −q for q = (r·c)/(c − 2) (IEEE rounding is
    ;; symmetric in sign), and lo − (−q) is exactly lo + q
    (local.set $q (f64x2.div (f64x2.mul (local.get $r) (local.get $c)) (f64x2.sub (local.get $c) (v128.const f64x2 2 2))))
    (local.set $r0 (f64x2.sub (v128.const f64x2 1 1) (f64x2.sub (local.get $q) (local.get $r))))
    (local.set $y
      (f64x2.sub (v128.const f64x2 1 1)
        (f64x2.sub (f64x2.add (local.get $lo) (local.get $q)) (local.get $hi))))
    ;; 2^k: k (an integer-valued float64, |k| < 1100) + 1.5·2^52 holds k in its low mantissa bits exactly
    (local.set $twopk
      (i64x2.shl
        (i64x2.add
          (i64x2.sub
            (f64x2.add (local.get $kf) (v128.const i64x2 0x4338000000000000 0x4338000000000000))
            (v128.const i64x2 0x4338000000000000 0x4338000000000000))
          (v128.const i64x2 1023 1023))
        (i32.const 52)))
    (v128.bitselect
      (f64x2.add (v128.const f64x2 1 1) (local.get $x))
      (v128.bitselect (f64x2.mul (local.get $y) (local.get $twopk)) (local.get $r0) (local.get $A))
      (local.get $T)))

  ;; exp of n float64 values at $src into $dst (for tests of the two-lane path).
  (func (export "expArray") (param $src i32) (param $dst i32) (param $n i32)
    (local $j i32)
    (block $done
      (loop $pairs
        (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $n)))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 3)))
          (call $exp2 (v128.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 3))))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pairs)))
    (if (i32.lt_u (local.get $j) (local.get $n))
      (then
        (f64.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 3)))
          (call $exp1 (f64.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 3)))))))))

  ;; Causal softmax of `rows` rows of `keys` float32 scores at $p; row r is query first + r and keeps keys
  ;; 0..first+r: s·scale (stored as float32; the maximum taken over the unrounded products), e = exp(stored − max)
  ;; (stored; summed in float64 from key 0 up), then stored·(1/sum); keys after the query are set to 0.
  (func (export "softmaxCausal") (param $p i32) (param $rows i32) (param $keys i32) (param $first i32) (param $scale f64)
    (local $r i32) (local $row i32) (local $n i32) (local $j i32) (local $at i32)
    (local $v v128) (local $mx v128) (local $scale2 v128) (local $max f64) (local $value f64)
    (local $sum f64) (local $e f64) (local $e2 v128) (local $inv f64) (local $inv2 v128) (local $max2 v128)
    (local.set $scale2 (f64x2.splat (local.get $scale)))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $p) (i32.shl (i32.mul (local.get $r) (local.get $keys)) (i32.const 2))))
        (local.set $n (i32.add (i32.add (local.get $first) (local.get $r)) (i32.const 1)))
        ;; scale, store, maximum
        (local.set $mx (v128.const f64x2 -inf -inf))
        (local.set $j (i32.const 0))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $n)))
            (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $v (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $at))) (local.get $scale2)))
            (v128.store64_lane 0 (local.get $at) (f32x4.demote_f64x2_zero (local.get $v)))
            (local.set $mx (f64x2.pmax (local.get $mx) (local.get $v)))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $l1)))
        (local.set $max (f64x2.extract_lane 0 (local.get $mx)))
        (if (f64.gt (f64x2.extract_lane 1 (local.get $mx)) (local.get $max))
          (then (local.set $max (f64x2.extract_lane 1 (local.get $mx)))))
        (if (i32.lt_u (local.get $j) (local.get $n))
          (then
            (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $value (f64.mul (f64.promote_f32 (f32.load (local.get $at))) (local.get $scale)))
            (f32.store (local.get $at) (f32.demote_f64 (local.get $value)))
            (if (f64.gt (local.get $value) (local.get $max)) (then (local.set $max (local.get $value))))))
        ;; exponentials and their sum, in key order
        (local.set $max2 (f64x2.splat (local.get $max)))
        (local.set $sum (f64.const 0))
        (local.set $j (i32.const 0))
        (block $d2
          (loop $l2
            (br_if $d2 (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $n)))
            (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $e2
              (call $exp2 (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $at))) (local.get $max2))))
            (v128.store64_lane 0 (local.get $at) (f32x4.demote_f64x2_zero (local.get $e2)))
            (local.set $sum (f64.add (local.get $sum) (f64x2.extract_lane 0 (local.get $e2))))
            (local.set $sum (f64.add (local.get $sum) (f64x2.extract_lane 1 (local.get $e2))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $l2)))
        (if (i32.lt_u (local.get $j) (local.get $n))
          (then
            (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $e (call $exp1 (f64.sub (f64.promote_f32 (f32.load (local.get $at))) (local.get $max))))
            (f32.store (local.get $at) (f32.demote_f64 (local.get $e)))
            (local.set $sum (f64.add (local.get $sum) (local.get $e)))))
        ;; normalise
        (local.set $inv (f64.div (f64.const 1) (local.get $sum)))
        (local.set $inv2 (f64x2.splat (local.get $inv)))
        (local.set $j (i32.const 0))
        (block $d3
          (loop $l3
            (br_if $d3 (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $n)))
            (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (v128.store64_lane 0 (local.get $at)
              (f32x4.demote_f64x2_zero
                (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $at))) (local.get $inv2))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $l3)))
        (if (i32.lt_u (local.get $j) (local.get $n))
          (then
            (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (f32.store (local.get $at)
              (f32.demote_f64 (f64.mul (f64.promote_f32 (f32.load (local.get $at))) (local.get $inv))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))))
        ;; keys after the query
        (block $d4
          (loop $l4
            (br_if $d4 (i32.ge_u (local.get $j) (local.get $keys)))
            (f32.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))) (f32.const 0))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $l4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsLoop))))

  ;; SwiGLU: out[i] = (g / (1 + exp(−g)))·up[i] for n float32 gates g (float64 arithmetic, one rounding to
  ;; float32 at the store); with $keep ≠ 0 also the float64 exp(−g) at $gexp (the backward reuses it).
  (func (export "swiglu") (param $gate i32) (param $up i32) (param $out i32) (param $gexp i32) (param $n i32) (param $keep i32)
    (local $j i32) (local $x v128) (local $e v128) (local $xs f64) (local $es f64)
    (block $done
      (loop $pairs
        (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $n)))
        (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $gate) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $e (call $exp2 (f64x2.neg (local.get $x))))
        (if (local.get $keep)
          (then (v128.store (i32.add (local.get $gexp) (i32.shl (local.get $j) (i32.const 3))) (local.get $e))))
        (v128.store64_lane 0 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
          (f32x4.demote_f64x2_zero
            (f64x2.mul
              (f64x2.div (local.get $x) (f64x2.add (v128.const f64x2 1 1) (local.get $e)))
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $up) (i32.shl (local.get $j) (i32.const 2))))))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pairs)))
    (if (i32.lt_u (local.get $j) (local.get $n))
      (then
        (local.set $xs (f64.promote_f32 (f32.load (i32.add (local.get $gate) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $es (call $exp1 (f64.neg (local.get $xs))))
        (if (local.get $keep)
          (then (f64.store (i32.add (local.get $gexp) (i32.shl (local.get $j) (i32.const 3))) (local.get $es))))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
          (f32.demote_f64
            (f64.mul
              (f64.div (local.get $xs) (f64.add (f64.const 1) (local.get $es)))
              (f64.promote_f32 (f32.load (i32.add (local.get $up) (i32.shl (local.get $j) (i32.const 2)))))))))))

  ;; Log-softmax over the vocabulary, in place, of `rows` rows of `vocab` float32 logits at $p; each row's
  ;; entropy (float64) at $entropies. Per row: the maximum, sum of exp(logit − max) in order,
  ;; logSum = max + log(sum), then value = logit − logSum (stored) and entropy −= exp(value)·value in order.
  (func (export "logSoftmaxRows") (param $p i32) (param $rows i32) (param $vocab i32) (param $entropies i32)
    (local $r i32) (local $row i32) (local $j i32) (local $at i32) (local $mx v128) (local $max f64)
    (local $max2 v128) (local $sum f64) (local $e2 v128) (local $logSum f64) (local $logSum2 v128)
    (local $v2 v128) (local $entropy f64) (local $value f64)
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $p) (i32.shl (i32.mul (local.get $r) (local.get $vocab)) (i32.const 2))))
        (local.set $mx (v128.const f64x2 -inf -inf))
        (local.set $j (i32.const 0))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $vocab)))
            (local.set $mx
              (f64x2.pmax (local.get $mx)
                (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $l1)))
        (local.set $max (f64x2.extract_lane 0 (local.get $mx)))
        (if (f64.gt (f64x2.extract_lane 1 (local.get $mx)) (local.get $max))
          (then (local.set $max (f64x2.extract_lane 1 (local.get $mx)))))
        (if (i32.lt_u (local.get $j) (local.get $vocab))
          (then
            (local.set $value (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (if (f64.gt (local.get $value) (local.get $max)) (then (local.set $max (local.get $value))))))
        (local.set $max2 (f64x2.splat (local.get $max)))
        (local.set $sum (f64.const 0))
        (local.set $j (i32.const 0))
        (block $d2
          (loop $l2
            (br_if $d2 (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $vocab)))
            (local.set $e2
              (call $exp2
                (f64x2.sub
                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
                  (local.get $max2))))
            (local.set $sum (f64.add (local.get $sum) (f64x2.extract_lane 0 (local.get $e2))))
            (local.set $sum (f64.add (local.get $sum) (f64x2.extract_lane 1 (local.get $e2))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $l2)))
        (if (i32.lt_u (local.get $j) (local.get $vocab))
          (then
            (local.set $sum
              (f64.add (local.get $sum)
                (call $exp1
                  (f64.sub
                    (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
                    (local.get $max)))))))
        (local.set $logSum (f64.add (local.get $max) (call $log (local.get $sum))))
        (local.set $logSum2 (f64x2.splat (local.get $logSum)))
        (local.set $entropy (f64.const 0))
        (local.set $j (i32.const 0))
        (block $d3
          (loop $l3
            (br_if $d3 (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $vocab)))
            (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $v2 (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $at))) (local.get $logSum2)))
            (v128.store64_lane 0 (local.get $at) (f32x4.demote_f64x2_zero (local.get $v2)))
            (local.set $e2 (f64x2.mul (call $exp2 (local.get $v2)) (local.get $v2)))
            (local.set $entropy (f64.sub (local.get $entropy) (f64x2.extract_lane 0 (local.get $e2))))
            (local.set $entropy (f64.sub (local.get $entropy) (f64x2.extract_lane 1 (local.get $e2))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $l3)))
        (if (i32.lt_u (local.get $j) (local.get $vocab))
          (then
            (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $value (f64.sub (f64.promote_f32 (f32.load (local.get $at))) (local.get $logSum)))
            (f32.store (local.get $at) (f32.demote_f64 (local.get $value)))
            (local.set $entropy
              (f64.sub (local.get $entropy) (f64.mul (call $exp1 (local.get $value)) (local.get $value))))))
        (f64.store (i32.add (local.get $entropies) (i32.shl (local.get $r) (i32.const 3))) (local.get $entropy))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsLoop))))

  ;; The loss gradient's softmax part: out[j] = −c_r·exp(logprob[j]) (float32) for `rows` rows of `vocab`
  ;; float32 log-probabilities at $p, with the row's float64 coefficient c_r at $coefficients.
  (func (export "softmaxGradientRows") (param $p i32) (param $out i32) (param $rows i32) (param $vocab i32) (param $coefficients i32)
    (local $r i32) (local $j i32) (local $offset i32) (local $negative f64) (local $negative2 v128)
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $negative (f64.neg (f64.load (i32.add (local.get $coefficients) (i32.shl (local.get $r) (i32.const 3))))))
        (local.set $negative2 (f64x2.splat (local.get $negative)))
        (local.set $j (i32.const 0))
        (block $d
          (loop $l
            (br_if $d (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $vocab)))
            (local.set $offset (i32.shl (i32.add (i32.mul (local.get $r) (local.get $vocab)) (local.get $j)) (i32.const 2)))
            (v128.store64_lane 0 (i32.add (local.get $out) (local.get $offset))
              (f32x4.demote_f64x2_zero
                (f64x2.mul (local.get $negative2)
                  (call $exp2 (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $p) (local.get $offset))))))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $l)))
        (if (i32.lt_u (local.get $j) (local.get $vocab))
          (then
            (local.set $offset (i32.shl (i32.add (i32.mul (local.get $r) (local.get $vocab)) (local.get $j)) (i32.const 2)))
            (f32.store (i32.add (local.get $out) (local.get $offset))
              (f32.demote_f64
                (f64.mul (local.get $negative) (call $exp1 (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $offset))))))))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsLoop))))
)
