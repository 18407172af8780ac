//! The verification page a user's browser opens (`verificationUri[Complete]`). Opening
//! `/device?user_code=XXXX-XXXX` approves that login and `&deny=1` denies it, so a test or
//! sandbox can play the user by pointing `$BROWSER` at a script that fetches the URL.

use super::call::Call;
use super::reply::Reply;
use super::wire_error::xml_escape;
use super::world::World;

pub fn serve(world: &mut World, call: &Call) -> Reply {
    let Some(user_code) = call.query("user_code").filter(|c| !c.is_empty()) else {
        return page(
            200,
            "Authorize request",
            "<form method=\"get\" action=\"/device\">\
             <label>Code <input name=\"user_code\" autofocus></label> <button>Allow</button></form>",
        );
    };
    let deny = call.query("deny").is_some_and(|v| v == "1" || v == "true");
    let decided = if deny {
        world.logins.deny(user_code)
    } else {
        world.logins.approve(user_code)
    };
    let code = xml_escape(user_code);
    match (decided, deny) {
        (true, false) => page(
            200,
            "Request approved",
            &format!("<p>Code {code} approved. You can close this window.</p>"),
        ),
        (true, true) => page(
            200,
            "Request denied",
            &format!("<p>Code {code} denied.</p>"),
        ),
        (false, _) => page(
            404,
            "Invalid code",
            &format!("<p>Code {code} is unknown, expired or already used.</p>"),
        ),
    }
}

fn page(status: u16, title: &str, content: &str) -> Reply {
    Reply::html(
        status,
        format!(
            "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\
             <body><h1>AWS emulator: {title}</h1>{content}</body></html>\n"
        ),
    )
}
