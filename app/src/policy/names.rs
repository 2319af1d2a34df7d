//! Names and free answers as typed by people, folded so that case, accents and spacing do
//! not matter (mailbox addresses, identity checks, security answers).

/// A name folded to lower-case ASCII: accents dropped, spaces, apostrophes and hyphens
/// as one `-`, anything else left out ("Côté D'Anjou" -> "cote-d-anjou"). Mailbox
/// addresses are made of it, and names typed by people are compared through it.
pub fn fold_name(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        let folded = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => "a",
            'ç' => "c",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ñ' => "n",
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => "o",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'ý' | 'ÿ' => "y",
            'œ' => "oe",
            'æ' => "ae",
            ' ' | '\'' | '’' | '-' => "-",
            c if c.is_ascii_alphanumeric() || c == '.' => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        if folded == "-" && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push_str(folded);
    }
    out.trim_matches('-').to_owned()
}
