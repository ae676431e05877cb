package io.carousel.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar for a person at a terminal, e.g.
 * {@code [#########...........] 45% 10,212/22,695 rows 3,400 rows/s}: drawn at most every
 * {@link #INTERVAL_NANOS} (never in the first interval, so a quick run shows nothing), cleared by
 * {@link #close}. It is only ever shown on a terminal ({@link #where}); anywhere else (a file, a
 * pipe, a test, a CI log) it is {@link #off}.
 *
 * <p>Each drawing starts and ends with a carriage return: the cursor stays at the start of the
 * line, so a log line written meanwhile (the retraining logs go to the same terminal) overwrites
 * the bar instead of being glued to its end, and the next drawing goes on the line below.
 */
final class Progress implements AutoCloseable {

    /** At most four drawings a second. */
    static final long INTERVAL_NANOS = 250_000_000L;
    static final int BAR_WIDTH = 20;

    /** Where the bar may go: standard output, standard error, or nowhere. */
    enum Where { OUT, ERR, NONE }

    /** Which of the process's output streams are terminals (injected in tests). */
    interface Terminal {
        boolean stdout();

        boolean stderr();

        /**
         * The process's own: standard output is a terminal when {@code System.console() != null}
         * (Java 17: standard input and output both are), standard error when {@code /proc/self/fd/2}
         * is a terminal device (Linux; elsewhere it counts as no terminal). Neither is, whatever the
         * streams, under CI ({@code CI} set) or with {@code TERM=dumb}.
         */
        static Terminal system() {
            String ci = System.getenv("CI");
            boolean quiet = (ci != null && !ci.isEmpty() && !ci.equalsIgnoreCase("false"))
                    || "dumb".equals(System.getenv("TERM"));
            boolean out = !quiet && System.console() != null;
            boolean err = !quiet && isTerminalDevice(2);
            return new Terminal() {
                @Override
                public boolean stdout() {
                    return out;
                }

                @Override
                public boolean stderr() {
                    return err;
                }
            };
        }
    }

    /**
     * Where a command's bar goes. Normally on standard output when it is a terminal. When standard
     * output carries the command's data (backtest's CSV without --out), never there: on standard
     * error if that is a terminal and standard output is not (CSV rows scrolling on the terminal
     * already show progress, and a bar would be drawn over them).
     */
    static Where where(Terminal terminal, boolean stdoutIsData) {
        if (!stdoutIsData) {
            return terminal.stdout() ? Where.OUT : Where.NONE;
        }
        return terminal.stderr() && !terminal.stdout() ? Where.ERR : Where.NONE;
    }

    private static boolean isTerminalDevice(int fd) {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    private static final Progress OFF = new Progress(null, 0, () -> 0);

    private final PrintWriter out;
    private final long total;
    private final LongSupplier clock;
    private final long start;
    private long last;
    private int drawnWidth;

    /**
     * @param out where to draw; null for a bar that never draws
     * @param total the rows expected, or 0 if unknown (then no bar, only counts)
     * @param nanoClock e.g. {@code System::nanoTime}
     */
    Progress(PrintWriter out, long total, LongSupplier nanoClock) {
        this.out = out;
        this.total = Math.max(total, 0);
        this.clock = nanoClock;
        this.start = nanoClock.getAsLong();
        this.last = start;
    }

    /** A bar that never draws. */
    static Progress off() {
        return OFF;
    }

    boolean enabled() {
        return out != null;
    }

    /** Reports {@code done} rows; draws if the last drawing (or the start) is at least an interval ago. */
    void update(long done) {
        if (out == null) {
            return;
        }
        long now = clock.getAsLong();
        if (now - last < INTERVAL_NANOS) {
            return;
        }
        last = now;
        double seconds = (now - start) / 1e9;
        String line = format(done, total, seconds > 0 ? done / seconds : 0);
        StringBuilder b = new StringBuilder(line.length() + 8).append('\r').append(line);
        for (int i = line.length(); i < drawnWidth; i++) {
            b.append(' ');
        }
        out.print(b.append('\r'));
        out.flush();
        drawnWidth = Math.max(drawnWidth, line.length());
    }

    /** Rubs the bar out (before a message, or at the end); the next {@link #update} draws it again. */
    void clear() {
        if (out == null || drawnWidth == 0) {
            return;
        }
        out.print("\r" + " ".repeat(drawnWidth) + "\r");
        out.flush();
        drawnWidth = 0;
    }

    @Override
    public void close() {
        clear();
    }

    /** The bar's text, without the carriage returns: {@code [####......] 45% 10,212/22,695 rows 3,400 rows/s}. */
    static String format(long done, long total, double rowsPerSecond) {
        StringBuilder b = new StringBuilder(80);
        if (total > 0) {
            long shown = Math.min(done, total);
            int filled = (int) (BAR_WIDTH * shown / total);
            b.append('[').append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("] ")
                    .append(String.format(Locale.ROOT, "%d%% %,d/%,d rows", 100 * shown / total, done, total));
        } else {
            b.append(String.format(Locale.ROOT, "%,d rows", done));
        }
        return b.append(String.format(Locale.ROOT, " %,.0f rows/s", rowsPerSecond)).toString();
    }
}
