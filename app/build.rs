//! Turns `locales/fr.json` and `locales/en.json` into a `Msg` enum and one `match` per
//! language, so a missing translation or a mistyped message id fails the build, and the
//! WASM carries plain string constants rather than a JSON parser.
use std::{collections::BTreeMap, env, fs, path::Path};

const LANGUAGES: [&str; 2] = ["fr", "en"];

fn load(lang: &str) -> BTreeMap<String, String> {
    let path = format!("locales/{lang}.json");
    println!("cargo::rerun-if-changed={path}");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let serde_json::Value::Object(map) = value else {
        panic!("{path}: expected one flat object of \"id\": \"text\"");
    };
    map.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            _ => panic!("{path}: {k}: expected a string"),
        })
        .collect()
}

fn variant_name(key: &str) -> String {
    key.split(['.', '_', '-'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

fn main() {
    let tables: Vec<(&str, BTreeMap<String, String>)> =
        LANGUAGES.iter().map(|l| (*l, load(l))).collect();
    let keys: Vec<&String> = tables[0].1.keys().collect();
    for (lang, table) in &tables[1..] {
        let theirs: Vec<&String> = table.keys().collect();
        if theirs != keys {
            let missing: Vec<_> = keys.iter().filter(|k| !table.contains_key(**k)).collect();
            let extra: Vec<_> = theirs
                .iter()
                .filter(|k| !tables[0].1.contains_key(**k))
                .collect();
            panic!(
                "locales/{lang}.json differs from fr.json: missing {missing:?}, extra {extra:?}"
            );
        }
    }

    let mut out = String::new();
    out.push_str(
        "/// Every text the product shows, by message id (generated from `locales/*.json`).\n",
    );
    // Debug is written below, by id: a derived one would put every variant's name in the
    // WASM beside the ids serde already carries.
    out.push_str(
        "#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]\n",
    );
    out.push_str("pub enum Msg {\n");
    for key in &keys {
        out.push_str(&format!(
            "    #[serde(rename = {key:?})]\n    {},\n",
            variant_name(key)
        ));
    }
    out.push_str("}\n\nimpl Msg {\n    /// The message id, as written in the locale files.\n");
    out.push_str("    pub const fn key(self) -> &'static str {\n        match self {\n");
    for key in &keys {
        out.push_str(&format!(
            "            Msg::{} => {key:?},\n",
            variant_name(key)
        ));
    }
    out.push_str(
        "        }\n    }\n\n    /// Looks a message id up, as written in the locale files.\n",
    );
    out.push_str("    pub fn from_key(key: &str) -> Option<Msg> {\n        match key {\n");
    for key in &keys {
        out.push_str(&format!(
            "            {key:?} => Some(Msg::{}),\n",
            variant_name(key)
        ));
    }
    out.push_str("            _ => None,\n        }\n    }\n}\n\n");
    out.push_str(
        "impl core::fmt::Debug for Msg {\n    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {\n        f.write_str(self.key())\n    }\n}\n\n",
    );
    for (lang, table) in &tables {
        out.push_str(&format!(
            "pub(crate) const fn text_{lang}(msg: Msg) -> &'static str {{\n    match msg {{\n"
        ));
        for (key, text) in table {
            out.push_str(&format!(
                "        Msg::{} => {text:?},\n",
                variant_name(key)
            ));
        }
        out.push_str("    }\n}\n\n");
    }
    let dest = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("messages.rs");
    fs::write(dest, out).expect("write messages.rs");
}
