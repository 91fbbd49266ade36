//! Chat templates for `pico serve`: turn `messages` into one prompt string.
//!
//! Small GGUF models rarely ship a usable template (and `tokenizer.chat_template` is Jinja,
//! which the server does not evaluate), so the template is chosen on the command line:
//! - `plain`: a single `user` message without system prompt is sent verbatim (what DUP and
//!   NExT send); otherwise `System: …\n\nUser: …\n\nAssistant: …` blocks ending in `Assistant:`.
//! - `chatml`: `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then
//!   `<|im_start|>assistant\n`.
//! - `llama2`: `[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} ` turns.

use super::request::Message;

/// A chat template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ChatTemplate {
    /// Verbatim single user message, else `Role: content` blocks.
    Plain,
    /// ChatML (`<|im_start|>` / `<|im_end|>`).
    Chatml,
    /// Llama-2 chat `[INST]` turns.
    Llama2,
}

fn title(role: &str) -> String {
    let mut c = role.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Renders `messages` with `t`.
pub fn render(t: ChatTemplate, messages: &[Message]) -> String {
    match t {
        ChatTemplate::Plain => match messages {
            [m] if m.role == "user" => m.content.clone(),
            _ => {
                let mut s = String::new();
                for m in messages {
                    s.push_str(&format!("{}: {}\n\n", title(&m.role), m.content));
                }
                s.push_str("Assistant:");
                s
            }
        },
        ChatTemplate::Chatml => {
            let mut s = String::new();
            for m in messages {
                s.push_str(&format!(
                    "<|im_start|>{}\n{}<|im_end|>\n",
                    m.role, m.content
                ));
            }
            s.push_str("<|im_start|>assistant\n");
            s
        }
        ChatTemplate::Llama2 => {
            let mut s = String::new();
            let mut system: Option<&str> = None;
            for m in messages {
                match m.role.as_str() {
                    "system" => system = Some(&m.content),
                    "user" => {
                        s.push_str("[INST] ");
                        if let Some(sys) = system.take() {
                            s.push_str(&format!("<<SYS>>\n{sys}\n<</SYS>>\n\n"));
                        }
                        s.push_str(&format!("{} [/INST]", m.content));
                    }
                    _ => s.push_str(&format!(" {} ", m.content)),
                }
            }
            s
        }
    }
}
