//! The access-log part of the ceiling (`bare-axum` with `ACCESS_LOG=1`): per request, the
//! two lines the registry writes at the defaults, byte for byte in shape (the human line
//! for stdout, the JSON line for `combined.log`), formatted without `core::fmt` into a
//! buffer of the thread's own and written by a thread per destination every 100 ms, as
//! the registry's writers do. No `tracing`, no filter, no escaping (the values are
//! known to be plain): the least a server can do to write those lines.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// A thread's lines for one destination, not yet written.
type Buffer = Arc<Mutex<Vec<u8>>>;

/// One destination: every thread's buffer, drained by the writer thread.
struct Destination {
    buffers: Mutex<Vec<Buffer>>,
}

static HUMAN: OnceLock<Destination> = OnceLock::new();
static JSON: OnceLock<Destination> = OnceLock::new();

thread_local! {
    static MINE: (Buffer, Buffer) = {
        let human = Arc::new(Mutex::new(Vec::with_capacity(64 * 1024)));
        let json = Arc::new(Mutex::new(Vec::with_capacity(64 * 1024)));
        HUMAN.get().expect("started").buffers.lock().unwrap().push(Arc::clone(&human));
        JSON.get().expect("started").buffers.lock().unwrap().push(Arc::clone(&json));
        (human, json)
    };
    static COUNTER: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Starts the two writers: stdout, and `combined.log` in `dir`.
pub fn start(dir: &std::path::Path) {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("combined.log"))
        .expect("combined.log");
    spawn(&HUMAN, Box::new(std::io::stdout()));
    spawn(&JSON, Box::new(file));
}

fn spawn(slot: &'static OnceLock<Destination>, mut out: Box<dyn Write + Send>) {
    let _ = slot.set(Destination {
        buffers: Mutex::new(Vec::new()),
    });
    std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(1 << 20);
        loop {
            std::thread::sleep(Duration::from_millis(100));
            for buffer in slot.get().unwrap().buffers.lock().unwrap().iter() {
                batch.append(&mut buffer.lock().unwrap());
            }
            if !batch.is_empty() {
                let _ = out.write_all(&batch);
                batch.clear();
            }
        }
    });
}

/// Writes the two lines of one answered request.
pub fn log(tenant: &str, model: &str, elapsed: Duration) {
    let timestamp = format_now();
    let id = COUNTER.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let mut id_buf = itoa::Buffer::new();
    let id = id_buf.format(id);
    let micros = elapsed.as_micros() as u64;
    let mut ms = [0u8; 24];
    let ms = millis(micros, &mut ms);
    MINE.with(|(human, json)| {
        let mut line = human.lock().unwrap();
        for part in [
            timestamp.as_str(),
            "  INFO dmr::access: status=200 elapsed_ms=",
            ms,
            " request completed request_id=550d-1a23c815f70-",
            id,
            " method=GET path=/api/models/",
            tenant,
            "/",
            model,
            " route=/api/models/{tenant_id}/{model_name} tenant=",
            tenant,
            " model=",
            model,
            "\n",
        ] {
            line.extend_from_slice(part.as_bytes());
        }
        drop(line);
        let mut line = json.lock().unwrap();
        for part in [
            "{\"timestamp\":\"",
            timestamp.as_str(),
            "\",\"level\":\"INFO\",\"fields\":{\"status\":200,\"elapsed_ms\":",
            ms,
            ",\"message\":\"request completed\"},\"target\":\"dmr::access\",\"span\":{\"method\":\"GET\",\"path\":\"/api/models/",
            tenant,
            "/",
            model,
            "\",\"request_id\":\"550d-1a23c815f70-",
            id,
            "\",\"route\":\"/api/models/{tenant_id}/{model_name}\",\"tenant\":\"",
            tenant,
            "\",\"model\":\"",
            model,
            "\",\"name\":\"request\"}}\n",
        ] {
            line.extend_from_slice(part.as_bytes());
        }
    });
}

/// Milliseconds with three decimals, as the registry writes them.
fn millis(micros: u64, out: &mut [u8; 24]) -> &str {
    let mut whole = itoa::Buffer::new();
    let whole = whole.format(micros / 1000).as_bytes();
    let frac = micros % 1000;
    out[..whole.len()].copy_from_slice(whole);
    let n = whole.len();
    out[n] = b'.';
    out[n + 1] = b'0' + (frac / 100) as u8;
    out[n + 2] = b'0' + (frac / 10 % 10) as u8;
    out[n + 3] = b'0' + (frac % 10) as u8;
    std::str::from_utf8(&out[..n + 4]).expect("ASCII")
}

fn format_now() -> String {
    dmr_model::date::format_system_time(SystemTime::now())
}
