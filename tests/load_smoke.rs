use stackctl::load::resolve_text;

#[test]
fn guitar_collection_loads_clean() {
    let text = std::fs::read_to_string("stacks/guitar-collection.yaml").unwrap();
    for env in ["dev", "staging", "prod"] {
        let (file, r) = resolve_text("stacks/guitar-collection.yaml", &text, env);
        let rendered: String = r.diagnostics.iter().map(|d| d.render(&file)).collect();
        assert!(r.diagnostics.is_empty(), "{env}:\n{rendered}");
    }
}
