// A small JSON reader for the engine's answers (objects, arrays, strings, numbers, booleans, null).
#pragma once

#include <string>
#include <utility>
#include <vector>

struct Json {
    enum Type { Null, Bool, Number, String, Array, Object };
    Type type = Null;
    bool boolean = false;
    double number = 0.0;
    std::string text;
    std::vector<Json> items;
    std::vector<std::pair<std::string, Json>> members;

    // The member called `name`, or a null value when there is none (or this is not an object).
    const Json& operator[](const char* name) const;
    std::string str(const char* name, const std::string& fallback = "") const;
    double num(const char* name, double fallback = 0.0) const;
    bool flag(const char* name) const;

    // Parses `input`; false with `error` set when it is not JSON.
    static bool parse(const std::string& input, Json& out, std::string& error);
};

// `value` as a JSON string literal (quotes and escapes included).
std::string jsonQuote(const std::string& value);
