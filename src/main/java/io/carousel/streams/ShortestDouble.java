package io.carousel.streams;

import java.math.BigInteger;

/**
 * A finite double's shortest decimal that reads back as the same double, written as ASCII into a
 * byte array: the digits and the layout of {@code Double.toString} since JDK 19, which are also
 * Jackson's ({@code NumberOutput.toString(double, true)}), so the output records are what they
 * were when Jackson wrote their numbers.
 *
 * <p>The decimal is found by Raffaello Giulietti's Schubfach algorithm ("The Schubfach way to
 * render doubles", 2020; the JDK's and Jackson's implementation of it). This one exists to write
 * straight into the output buffer: Jackson's returns a String, and its allocation and digit-by-digit
 * formatting were most of the cost of a record (six numbers an event). The table of 126-bit
 * powers of ten the algorithm needs is computed once, exactly, with BigInteger. ShortestDoubleTest
 * holds every output to Jackson's on millions of doubles of every magnitude. Not thread-safe: one
 * per writer (it has a scratch buffer).
 */
final class ShortestDouble {

    /** The most characters one double takes: "-2.2250738585072014E-308". */
    static final int MAX_CHARS = 24;

    private static final int P = 53;
    private static final int Q_MIN = -1074;
    private static final long C_MIN = 1L << (P - 1);
    private static final long T_MASK = C_MIN - 1;
    private static final int BQ_MASK = 0x7ff;
    private static final long C_TINY = 3;
    private static final int K_MIN = -324;
    private static final int K_MAX = 292;
    private static final long MASK_63 = Long.MAX_VALUE;
    /** g(k) = floor(10^-k 2^(125 - floor(log2 10^-k))) + 1, in [2^125, 2^126], as its high and low 63 bits. */
    private static final long[] G1 = new long[K_MAX - K_MIN + 1];
    private static final long[] G0 = new long[K_MAX - K_MIN + 1];
    /** "00" to "99", two ASCII bytes each (OutputWriter writes longs with it too). */
    static final byte[] PAIRS = new byte[200];

    static {
        for (int k = K_MIN; k <= K_MAX; k++) {
            int f = flog2pow10(-k); // floor(log2 10^-k)
            BigInteger floor;
            if (k <= 0) {
                BigInteger n = BigInteger.TEN.pow(-k);
                floor = 125 - f >= 0 ? n.shiftLeft(125 - f) : n.shiftRight(f - 125);
            } else {
                floor = BigInteger.ONE.shiftLeft(125 - f).divide(BigInteger.TEN.pow(k));
            }
            BigInteger g = floor.add(BigInteger.ONE);
            G1[k - K_MIN] = g.shiftRight(63).longValueExact();
            G0[k - K_MIN] = g.longValue() & MASK_63;
        }
        for (int i = 0; i < 100; i++) {
            PAIRS[2 * i] = (byte) ('0' + i / 10);
            PAIRS[2 * i + 1] = (byte) ('0' + i % 10);
        }
    }

    private final byte[] digits = new byte[20];
    /** The decimal found by {@link #decimal}: the value is f 10^e. */
    private long f;
    private int e;

    /**
     * Writes finite {@code v} into {@code out} at {@code at} (room for {@link #MAX_CHARS} bytes
     * there) and returns the position after it.
     */
    int write(double v, byte[] out, int at) {
        long bits = Double.doubleToRawLongBits(v);
        if (bits < 0) {
            out[at++] = '-';
        }
        if ((bits & MASK_63) == 0) {
            out[at] = '0';
            out[at + 1] = '.';
            out[at + 2] = '0';
            return at + 3;
        }
        decimal(bits);
        return layout(out, at);
    }

    /** Sets f and e to the shortest decimal f 10^e that rounds to the finite, non-zero double of these bits. */
    private void decimal(long bits) {
        long t = bits & T_MASK;
        int bq = (int) (bits >>> (P - 1)) & BQ_MASK;
        if (bq != 0) {
            int mq = -Q_MIN + 1 - bq; // the value is c 2^-mq
            long c = C_MIN | t;
            if (0 < mq && mq < P) {
                long integer = c >> mq;
                if (integer << mq == c) { // an integer below 2^53: its own digits
                    f = integer;
                    e = 0;
                    return;
                }
            }
            toDecimal(-mq, c, 0);
        } else {
            // subnormal: the smallest ones are scaled by 10 to leave enough digits to choose from
            if (t < C_TINY) {
                toDecimal(Q_MIN, 10 * t, -1);
            } else {
                toDecimal(Q_MIN, t, 0);
            }
        }
    }

    /**
     * The decimal of c 2^q: among the decimals in the rounding interval of c 2^q, the one with
     * the fewest digits, and of those the closest (section 8 of the paper).
     */
    private void toDecimal(int q, long c, int dk) {
        int out = (int) c & 1; // an even c includes the interval's bounds (round half even reads back)
        long cb = c << 2;
        long cbr = cb + 2;
        long cbl;
        int k;
        if (c != C_MIN || q == Q_MIN) {
            cbl = cb - 2;
            k = flog10pow2(q);
        } else {
            cbl = cb - 1; // at a power of two the interval below is half as wide
            k = flog10threeQuartersPow2(q);
        }
        int h = q + flog2pow10(-k) + 2;
        long g1 = G1[k - K_MIN];
        long g0 = G0[k - K_MIN];
        long vb = rop(g1, g0, cb << h);
        long vbl = rop(g1, g0, cbl << h);
        long vbr = rop(g1, g0, cbr << h);
        long s = vb >> 2;
        if (s >= 100) {
            long sp10 = 10 * Math.multiplyHigh(s, 115_292_150_460_684_698L << 4); // 10 floor(s / 10)
            long tp10 = sp10 + 10;
            boolean upin = vbl + out <= sp10 << 2;
            boolean wpin = (tp10 << 2) + out <= vbr;
            e = k + dk;
            if (upin != wpin) { // one digit fewer fits the interval
                f = upin ? sp10 : tp10;
                return;
            }
        }
        long t = s + 1;
        boolean uin = vbl + out <= s << 2;
        boolean win = (t << 2) + out <= vbr;
        e = k + dk;
        if (uin != win) {
            f = uin ? s : t;
            return;
        }
        long cmp = vb - ((s + t) << 1); // both fit: the closer, the even one at a tie
        f = cmp < 0 || (cmp == 0 && (s & 1) == 0) ? s : t;
    }

    /** g cp / 2^127, rounded to odd: the 126-bit g as g1 2^63 + g0. */
    private static long rop(long g1, long g0, long cp) {
        long x1 = Math.multiplyHigh(g0, cp);
        long y0 = g1 * cp;
        long y1 = Math.multiplyHigh(g1, cp);
        long z = (y0 >>> 1) + x1;
        long vbp = y1 + (z >>> 63);
        return vbp | (((z & MASK_63) + MASK_63) >>> 63);
    }

    /** floor(q log10 2), for |q| <= 5456721. */
    private static int flog10pow2(int q) {
        return (int) ((q * 661_971_961_083L) >> 41);
    }

    /** floor(log10(3/4 2^q)), for |q| <= 5456721. */
    private static int flog10threeQuartersPow2(int q) {
        return (int) ((q * 661_971_961_083L - 274_743_187_321L) >> 41);
    }

    /** floor(e log2 10), for |e| <= 1838394. */
    private static int flog2pow10(int e) {
        return (int) ((e * 913_124_641_741L) >> 38);
    }

    /** Writes v (< 10^8) as exactly {@code count} digits (even) ending before digits[to]. */
    private void pairs(int v, int to, int count) {
        for (int i = 0; i < count; i += 2) {
            int q = v / 100;
            int r = v - 100 * q;
            digits[to - i - 1] = PAIRS[2 * r + 1];
            digits[to - i - 2] = PAIRS[2 * r];
            v = q;
        }
    }

    /** Writes v's digits (v > 0) ending before digits[to]; returns how many. */
    private int digitsOf(int v, int to) {
        int n = 0;
        while (v >= 100) {
            int q = v / 100;
            int r = v - 100 * q;
            digits[to - n - 1] = PAIRS[2 * r + 1];
            digits[to - n - 2] = PAIRS[2 * r];
            n += 2;
            v = q;
        }
        if (v >= 10) {
            digits[to - n - 1] = PAIRS[2 * v + 1];
            digits[to - n - 2] = PAIRS[2 * v];
            return n + 2;
        }
        digits[to - n - 1] = (byte) ('0' + v);
        return n + 1;
    }

    /**
     * Writes f 10^e as Double.toString lays it out: plain for 10^-3 <= |v| < 10^7 ("0.001",
     * "1234567.0"), else one digit, the point and the rest, and the exponent ("1.0E7", "1.5E-4").
     */
    private int layout(byte[] out, int at) {
        // f's digits (at most 17), right-aligned in digits[20 - n, 20): its low 8 and the rest, in
        // ints (floor(f / 10^8) by a multiply, for f < 10^17, section 10 of the paper)
        int end = digits.length;
        int n;
        if (f >= 100_000_000L) {
            long high = Math.multiplyHigh(f, 193_428_131_138_340_668L) >>> 20;
            pairs((int) (f - 100_000_000L * high), end, 8);
            n = 8 + digitsOf((int) high, end - 8);
        } else {
            n = digitsOf((int) f, end);
        }
        int exp = e;
        while (digits[end - 1] == '0') { // the decimal's trailing zeros belong to its exponent
            end--;
            n--;
            exp++;
        }
        int from = end - n;
        int point = n + exp; // the value is 0.d1d2...dn 10^point
        if (0 < point && point <= 7) {
            if (n <= point) {
                System.arraycopy(digits, from, out, at, n);
                at += n;
                for (int i = n; i < point; i++) {
                    out[at++] = '0';
                }
                out[at] = '.';
                out[at + 1] = '0';
                return at + 2;
            }
            System.arraycopy(digits, from, out, at, point);
            at += point;
            out[at++] = '.';
            System.arraycopy(digits, from + point, out, at, n - point);
            return at + n - point;
        }
        if (-3 < point && point <= 0) {
            out[at++] = '0';
            out[at++] = '.';
            for (int i = point; i < 0; i++) {
                out[at++] = '0';
            }
            System.arraycopy(digits, from, out, at, n);
            return at + n;
        }
        out[at++] = digits[from];
        out[at++] = '.';
        if (n == 1) {
            out[at++] = '0';
        } else {
            System.arraycopy(digits, from + 1, out, at, n - 1);
            at += n - 1;
        }
        out[at++] = 'E';
        int x = point - 1;
        if (x < 0) {
            out[at++] = '-';
            x = -x;
        }
        if (x >= 100) {
            out[at++] = (byte) ('0' + x / 100);
            x %= 100;
            out[at++] = PAIRS[2 * x];
            out[at++] = PAIRS[2 * x + 1];
        } else if (x >= 10) {
            out[at++] = PAIRS[2 * x];
            out[at++] = PAIRS[2 * x + 1];
        } else {
            out[at++] = (byte) ('0' + x);
        }
        return at;
    }
}
