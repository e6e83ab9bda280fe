//! Compile time of each built-in template (a profiling aid).
use std::time::Instant;
fn main() {
    for (name, text) in stackctl::render::BUILTIN_TEMPLATES {
        let t = Instant::now();
        for _ in 0..50 {
            let mut hb = handlebars::Handlebars::new();
            hb.register_template_string(name, text).unwrap();
        }
        println!("{:>9.1?}  {:>6} bytes  {name}", t.elapsed() / 50, text.len());
    }
}
