// json-c, as seen by Swift. Only RecurCore/Format/JSON.swift imports this
// module; it has no stable API of its own.
#include <json-c/json.h>
