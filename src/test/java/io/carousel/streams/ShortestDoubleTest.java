package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.io.NumberOutput;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** ShortestDouble writes every double exactly as Jackson does (and so as Double.toString since JDK 19). */
class ShortestDoubleTest {

    private final ShortestDouble writer = new ShortestDouble();
    private final byte[] out = new byte[ShortestDouble.MAX_CHARS + 8];

    private void check(double v) {
        if (!Double.isFinite(v)) {
            return;
        }
        out[3 + ShortestDouble.MAX_CHARS] = 'x'; // the guard byte past the room it may use
        int end = writer.write(v, out, 3);
        assertEquals(NumberOutput.toString(v, true), new String(out, 3, end - 3, StandardCharsets.US_ASCII),
                () -> "bits " + Long.toHexString(Double.doubleToRawLongBits(v)));
        assertEquals('x', out[3 + ShortestDouble.MAX_CHARS], "wrote past its room");
    }

    private void checkAround(double v) {
        check(v);
        check(-v);
        check(Math.nextUp(v));
        check(Math.nextDown(v));
    }

    @Test
    void everyBitPatternReadsAsJacksonWritesIt() {
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 2_000_000; i++) {
            check(Double.longBitsToDouble(r.nextLong()));
        }
    }

    @Test
    void theNumbersOfRecordsReadAsJacksonWritesThem() {
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < 1_000_000; i++) {
            double scale = Math.pow(10, r.nextInt(-12, 14));
            check(r.nextGaussian() * scale); // full-precision forecasts, errors, scores
            check(Math.round(r.nextGaussian() * 1e4) / 1e4 * scale); // readings with few digits
            check(r.nextInt(-1_000_000, 1_000_000)); // counts and integral readings
        }
    }

    @Test
    void edgesReadAsJacksonWritesThem() {
        double[] edges = {0.0, -0.0, Double.MIN_VALUE, 2 * Double.MIN_VALUE, 3 * Double.MIN_VALUE, Double.MIN_NORMAL,
            Double.MAX_VALUE, 1.0, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 9007199254740992.0, 9007199254740993.0, 4.35E-322, 5e-324,
            1e23, 8.41e21, 5.0E-324, 1.7976931348623157E308, 2.2250738585072014E-308, 2.225073858507201E-308};
        for (double v : edges) {
            checkAround(v);
        }
        for (int p = -325; p <= 309; p++) {
            checkAround(Double.parseDouble("1e" + p));
            checkAround(Double.parseDouble("9.999999999999999e" + p));
            checkAround(Double.parseDouble("5e" + p));
        }
        for (int p = -1074; p <= 1023; p++) {
            checkAround(Math.scalb(1.0, p));
        }
        for (long subnormal = 1; subnormal < 100_000; subnormal++) {
            check(Double.longBitsToDouble(subnormal));
        }
        for (long n = 1; n < 100_000; n++) { // the layout's boundaries: 1e-3, 1e7, the exponent's digits
            check(n / 1e3);
            check(n * 1e-7);
            check(n * 100.0);
        }
    }
}
