package io.carousel.cli;

import io.carousel.config.CarouselConfig;
import io.carousel.http.CarouselServer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code demo}: {@code run} on an embedded broker of its own, fed by {@link DemoGenerator}, with
 * settings that show something within a minute or two (a short warm-up, frequent retraining).
 * Its data lives under data/demo, apart from {@code run}'s, and its broker takes any free port,
 * so it never meets a {@code run} on the same machine.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Start everything for a first look: an embedded broker, the processor, a generator of sensor "
                + "series (seasonality, noise, drift, injected anomalies) and the HTTP server; prints the dashboard's address.",
            "Stops on Ctrl-C."})
final class DemoCommand implements Callable<Integer> {

    /** Demo settings, applied before the file's and --set's (which win). */
    static final List<String> DEMO = List.of(
            "embedded.port=0", "embedded.dir=data/demo/kafka", "state.dir=data/demo/state", "application.id=carousel-demo",
            "anomaly.warmup-events=150", "retrain.every-events=400", "retrain.epochs=20", "history.max-events=1000",
            "commit.interval.ms=200");

    @Mixin
    ConfigOptions config;

    @Option(names = "--sensors", defaultValue = "36", description = "Sensor series to generate (default ${DEFAULT-VALUE}).")
    int sensors;

    @Option(names = "--tick", defaultValue = "250", description = "Milliseconds between two events of a sensor (default ${DEFAULT-VALUE}).")
    long tickMs;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        if (sensors < 1 || sensors > 10_000) {
            throw new IllegalArgumentException("--sensors: expected 1 to 10000, got " + sensors);
        }
        if (tickMs < 10) {
            throw new IllegalArgumentException("--tick: expected at least 10 ms, got " + tickMs);
        }
        PrintWriter out = spec.commandLine().getOut();
        List<String> sets = new ArrayList<>(DEMO);
        sets.addAll(config.sets);
        // the shipped file when it is there (a clone), else the defaults (a jar on its own)
        Path file = config.file;
        if (file != null && file.toString().equals(CarouselConfig.DEFAULT_FILE) && !Files.exists(file)) {
            file = null;
        }
        CarouselConfig cfg = CarouselConfig.load(file, sets);
        RunCommand.Extra generator = new RunCommand.Extra() {
            private DemoGenerator g;
            private Thread t;

            @Override
            public synchronized void start(CarouselServer server) {
                g = new DemoGenerator(server.app().bootstrapServers(), cfg.topicEvents(), sensors, Duration.ofMillis(tickMs), 7);
                t = new Thread(g, "carousel-demo-generator");
                t.setDaemon(true);
                t.start();
                out.println("demo         " + sensors + " sensors, an event each every " + tickMs + " ms");
                out.flush();
            }

            @Override
            public synchronized void stop() {
                if (g != null) {
                    g.stop();
                    try {
                        t.join(2000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    g.close();
                    g = null;
                }
            }
        };
        return RunCommand.serve(cfg, out, spec.commandLine().getErr(), generator);
    }
}
