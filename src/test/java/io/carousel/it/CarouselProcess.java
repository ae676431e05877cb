package io.carousel.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One {@code java -jar target/carousel.jar run} process, as an operator would start it: its own
 * JVM, stdout and stderr together in a log file, stopped with SIGTERM ({@link #stop}) or SIGKILL
 * ({@link #kill}). {@link #close} kills it if it still runs; a JVM shutdown hook kills whatever
 * the tests left running, so no Carousel outlives the test JVM that started it.
 */
final class CarouselProcess implements AutoCloseable {

    /** The project directory (failsafe runs the tests there and sets basedir). */
    static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    /** The shaded jar built by package (failsafe passes its path as carousel.jar). */
    static final Path JAR = Path.of(System.getProperty("carousel.jar", BASEDIR.resolve("target/carousel.jar").toString()));
    /** The shipped configuration file; the tests override what they need with --set. */
    static final Path CONFIG = BASEDIR.resolve("config/application.properties");
    /** What {@code run} prints each time Kafka Streams reaches RUNNING. */
    static final String RUNNING = "Kafka Streams is RUNNING";

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "kill-carousel-processes"));
    }

    private final String name;
    private final Path log;
    private final Process process;
    private final long started = System.nanoTime();
    private volatile double secondsToRunning = Double.NaN;

    private CarouselProcess(String name, Path log, Process process) {
        this.name = name;
        this.log = log;
        this.process = process;
    }

    /** Starts {@code run} with every entry of {@code sets} as a {@code --set key=value}. */
    static CarouselProcess start(String name, Path log, List<String> sets) {
        return start(name, log, sets, java.util.Map.of());
    }

    /** As {@link #start(String, Path, List)}, with {@code env} added to the process's environment. */
    static CarouselProcess start(String name, Path log, List<String> sets, java.util.Map<String, String> env) {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " does not exist: the integration tests need `mvn package` first");
        }
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // two cores shared by everything: one GC thread, a bounded heap, and C1 only, which
                // halves the CPU time of start-up (Java's floating point is the same in every tier)
                "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-jar", JAR.toString(), "run", "--config", CONFIG.toString()));
        for (String s : sets) {
            cmd.add("--set");
            cmd.add(s);
        }
        try {
            Files.createDirectories(log.getParent());
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(BASEDIR.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            pb.environment().keySet().removeIf(k -> k.startsWith(io.carousel.config.CarouselConfig.ENV_PREFIX));
            pb.environment().putAll(env);
            Process p = pb.start();
            LIVE.add(p);
            p.onExit().thenRun(() -> LIVE.remove(p));
            return new CarouselProcess(name, log, p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + cmd, e);
        }
    }

    String name() {
        return name;
    }

    Path logFile() {
        return log;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Everything the process has written so far. */
    String output() {
        try {
            return Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    /** How often {@code text} occurs in the output so far. */
    int occurrences(String text) {
        String out = output();
        int n = 0;
        for (int i = out.indexOf(text); i >= 0; i = out.indexOf(text, i + text.length())) {
            n++;
        }
        return n;
    }

    /** Waits until {@code text} has appeared {@code times} times; fails at once if the process exits first. */
    void awaitOutput(String text, int times, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (occurrences(text) < times) {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with " + process.exitValue() + " before printing '" + text
                        + "'" + (times > 1 ? " " + times + " times" : "") + "; its output ends:\n" + tail(40));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " did not print '" + text + "'" + (times > 1 ? " " + times + " times" : "")
                        + " within " + timeout.toSeconds() + " s; its output ends:\n" + tail(40));
            }
            Thread.sleep(100);
        }
    }

    /** Waits until Kafka Streams in this process is RUNNING (the first time). */
    void awaitRunning(Duration timeout) throws InterruptedException {
        awaitOutput(RUNNING, 1, timeout);
        secondsToRunning = (System.nanoTime() - started) / 1e9;
    }

    /** Seconds from start to RUNNING, once {@link #awaitRunning} has seen it. */
    double secondsToRunning() {
        return secondsToRunning;
    }

    /** kill -9: no shutdown hook, no commit, no leaving the group. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            throw new AssertionError(name + " (pid " + process.pid() + ") did not die within 20 s of SIGKILL");
        }
    }

    /** SIGTERM, as Ctrl-C would: returns the exit status, killing the process if it does not exit in time. */
    int stop(Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
            throw new AssertionError(name + " did not stop within " + timeout.toSeconds() + " s of SIGTERM; its output ends:\n"
                    + tail(40));
        }
        return process.exitValue();
    }

    /** The last {@code lines} lines of the output. */
    String tail(int lines) {
        List<String> all = output().lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + ", log " + log + ")";
    }

    /**
     * The processes of one test: each logs to {@code dir/NAME.log}; {@link #close} kills those still
     * running, {@link #printTails} shows what each said (for a failed test).
     */
    static final class Group implements AutoCloseable {
        private final Path dir;
        private final List<CarouselProcess> all = new ArrayList<>();

        Group(Path dir) {
            this.dir = dir;
        }

        CarouselProcess start(String name, List<String> sets) {
            CarouselProcess p = CarouselProcess.start(name, dir.resolve(name + ".log"), sets);
            all.add(p);
            return p;
        }

        /** How long each process took to reach RUNNING. */
        String startTimes() {
            StringBuilder b = new StringBuilder();
            for (CarouselProcess p : all) {
                b.append(b.length() == 0 ? "" : ", ").append(p.name).append(String.format(java.util.Locale.ROOT, " %.1f s",
                        p.secondsToRunning));
            }
            return "RUNNING after: " + b;
        }

        void printTails(int lines) {
            for (CarouselProcess p : all) {
                System.err.println("----- " + p + (p.isAlive() ? ", running" : ", exited " + p.process.exitValue())
                        + ": last " + lines + " lines");
                System.err.println(p.tail(lines));
            }
        }

        @Override
        public void close() {
            all.forEach(CarouselProcess::close);
        }
    }
}
