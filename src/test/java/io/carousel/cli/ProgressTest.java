package io.carousel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressTest {

    private static final long MS = 1_000_000L;

    /** A clock the test moves. */
    private static final class Clock {
        long now = 5_000 * MS;

        long get() {
            return now;
        }
    }

    private static Progress.Terminal terminal(boolean out, boolean err) {
        return new Progress.Terminal() {
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

    @Test
    void shouldFormatTheBarTheCountsAndTheRate() {
        assertEquals("[########............] 44% 10,212/22,695 rows 3,400 rows/s", Progress.format(10_212, 22_695, 3_400.4));
        assertEquals("[....................] 0% 0/22,695 rows 0 rows/s", Progress.format(0, 22_695, 0));
        assertEquals("[####################] 100% 22,695/22,695 rows 1,234,568 rows/s",
                Progress.format(22_695, 22_695, 1_234_567.8));
        assertEquals("[####################] 100% 23,000/22,695 rows 10 rows/s", Progress.format(23_000, 22_695, 10),
                "more rows than counted: the bar stops at full");
        assertEquals("1,500 rows 75 rows/s", Progress.format(1_500, 0, 75), "no total: no bar");
    }

    @Test
    void shouldDrawAtMostFourTimesASecondAndNotInTheFirstQuarter() {
        Clock clock = new Clock();
        StringWriter text = new StringWriter();
        Progress p = new Progress(new PrintWriter(text), 1_000, clock::get);
        clock.now += 100 * MS;
        p.update(10);
        assertEquals("", text.toString(), "a quick run shows nothing");
        clock.now += 150 * MS; // 250 ms in
        p.update(100);
        assertEquals("\r[##..................] 10% 100/1,000 rows 400 rows/s\r", text.toString());
        for (int i = 0; i < 24; i++) { // 240 ms of updates every 10 ms: none draws
            clock.now += 10 * MS;
            p.update(101 + i);
        }
        assertEquals(1, drawings(text));
        clock.now += 10 * MS; // 250 ms after the last drawing
        p.update(500);
        assertEquals(2, drawings(text));
        assertTrue(text.toString().endsWith("\r[##########..........] 50% 500/1,000 rows 1,000 rows/s\r"), text.toString());
        // a second of updates, one every millisecond: four drawings
        for (int i = 0; i < 1_000; i++) {
            clock.now += MS;
            p.update(500 + i / 10);
        }
        assertEquals(6, drawings(text));
    }

    @Test
    void shouldRubOutWhatItDrewAtTheEndAndBeforeAMessage() {
        Clock clock = new Clock();
        StringWriter text = new StringWriter();
        Progress p = new Progress(new PrintWriter(text), 1_000, clock::get);
        clock.now += 300 * MS;
        p.update(999);
        String drawn = "[###################.] 99% 999/1,000 rows 3,330 rows/s";
        p.clear();
        assertEquals("\r" + drawn + "\r\r" + " ".repeat(drawn.length()) + "\r", text.toString());
        p.close();
        assertEquals("\r" + drawn + "\r\r" + " ".repeat(drawn.length()) + "\r", text.toString(), "cleared once only");

        StringWriter quick = new StringWriter();
        Progress q = new Progress(new PrintWriter(quick), 10, clock::get);
        q.update(10);
        q.close();
        assertEquals("", quick.toString(), "never drawn, nothing to clear");
    }

    @Test
    void shouldPadALineThatGotShorterSoNothingOfTheOldOneStays() {
        Clock clock = new Clock();
        StringWriter text = new StringWriter();
        Progress p = new Progress(new PrintWriter(text), 0, clock::get);
        clock.now += 1_000 * MS;
        p.update(123_456); // "123,456 rows 123,456 rows/s"
        clock.now += 1_000_000_000 * MS; // a million seconds on
        p.update(123_457); // "123,457 rows 0 rows/s": shorter
        String s = text.toString();
        String last = s.substring(s.lastIndexOf("\r", s.length() - 2) + 1, s.length() - 1);
        assertEquals("123,457 rows 0 rows/s" + " ".repeat("123,456 rows 123,456 rows/s".length() - "123,457 rows 0 rows/s".length()),
                last);
    }

    @Test
    void shouldOnlyEverGoToATerminalAndNeverOverTheData() {
        assertEquals(Progress.Where.OUT, Progress.where(terminal(true, true), false));
        assertEquals(Progress.Where.OUT, Progress.where(terminal(true, false), false));
        assertEquals(Progress.Where.NONE, Progress.where(terminal(false, true), false), "stdout redirected: no bar");
        assertEquals(Progress.Where.NONE, Progress.where(terminal(false, false), false));
        // standard output is the CSV
        assertEquals(Progress.Where.ERR, Progress.where(terminal(false, true), true), "CSV to a file or pipe: on stderr");
        assertEquals(Progress.Where.NONE, Progress.where(terminal(false, false), true));
        assertEquals(Progress.Where.NONE, Progress.where(terminal(true, true), true), "CSV on the terminal: no bar over it");
        assertEquals(Progress.Where.NONE, Progress.where(terminal(true, false), true));
    }

    @Test
    void shouldNeverDrawWhenOff() {
        Progress off = Progress.off();
        assertFalse(off.enabled());
        off.update(5);
        off.close();
    }

    private static int drawings(StringWriter w) {
        // each drawing is \r line \r
        return (int) w.toString().chars().filter(c -> c == '\r').count() / 2;
    }
}
