package io.carousel.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one place durations are parsed: ISO-8601 (PT5M, P7D) or a short form (500ms, 30s, 5m, 12h, 7d). */
public final class Durations {
    private static final Pattern SHORT = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    /** What a user may write, for error messages. */
    public static final String FORMS = "a duration like PT5M, P7D, 500ms, 30s, 5m, 12h or 7d";

    private Durations() {
    }

    /**
     * Parses {@code text}; a bare {@code 0} is zero (how "off" is written). Negative durations
     * are refused: nothing in Carousel counts backwards.
     *
     * @throws IllegalArgumentException if the text is none of the accepted forms
     */
    public static Duration parse(String text) {
        String s = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = SHORT.matcher(s);
        try {
            Duration d;
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                d = switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            } else {
                d = Duration.parse(s); // accepts either case; rejects years and months, whose length varies
            }
            if (d.isNegative()) {
                throw new IllegalArgumentException("expected " + FORMS + ", not negative, got '" + text + "'");
            }
            return d;
        } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("expected " + FORMS + ", got '" + text + "'", e);
        }
    }
}
