#include "Json.hpp"

#include <cstdio>
#include <cstdlib>

namespace {

const Json kNull;

struct Parser {
    const std::string& s;
    size_t at = 0;
    int depth = 0;

    void space() { while (at < s.size() && (s[at] == ' ' || s[at] == '\t' || s[at] == '\n' || s[at] == '\r')) ++at; }

    bool literal(const char* word) {
        size_t n = 0;
        while (word[n]) ++n;
        if (s.compare(at, n, word) != 0) return false;
        at += n;
        return true;
    }

    static void appendUtf8(std::string& out, unsigned code) {
        if (code < 0x80) { out += char(code); }
        else if (code < 0x800) { out += char(0xC0 | (code >> 6)); out += char(0x80 | (code & 0x3F)); }
        else if (code < 0x10000) { out += char(0xE0 | (code >> 12)); out += char(0x80 | ((code >> 6) & 0x3F)); out += char(0x80 | (code & 0x3F)); }
        else { out += char(0xF0 | (code >> 18)); out += char(0x80 | ((code >> 12) & 0x3F)); out += char(0x80 | ((code >> 6) & 0x3F)); out += char(0x80 | (code & 0x3F)); }
    }

    bool hex4(unsigned& code) {
        if (at + 4 > s.size()) return false;
        code = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = s[at++];
            code <<= 4;
            if (c >= '0' && c <= '9') code |= unsigned(c - '0');
            else if (c >= 'a' && c <= 'f') code |= unsigned(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') code |= unsigned(c - 'A' + 10);
            else return false;
        }
        return true;
    }

    bool string(std::string& out) {
        if (at >= s.size() || s[at] != '"') return false;
        ++at;
        while (at < s.size()) {
            const char c = s[at++];
            if (c == '"') return true;
            if (c != '\\') { out += c; continue; }
            if (at >= s.size()) return false;
            const char e = s[at++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                unsigned code;
                if (!hex4(code)) return false;
                if (code >= 0xD800 && code < 0xDC00 && at + 6 <= s.size() && s[at] == '\\' && s[at + 1] == 'u') {
                    at += 2;
                    unsigned low;
                    if (!hex4(low)) return false;
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                }
                appendUtf8(out, code);
                break;
            }
            default: return false;
            }
        }
        return false;
    }

    bool value(Json& out) {
        if (++depth > 64) return false;
        space();
        bool ok = false;
        if (at >= s.size()) ok = false;
        else if (s[at] == '{') ok = object(out);
        else if (s[at] == '[') ok = array(out);
        else if (s[at] == '"') { out.type = Json::String; ok = string(out.text); }
        else if (literal("true")) { out.type = Json::Bool; out.boolean = true; ok = true; }
        else if (literal("false")) { out.type = Json::Bool; ok = true; }
        else if (literal("null")) { out.type = Json::Null; ok = true; }
        else {
            const char* begin = s.c_str() + at;
            char* end = nullptr;
            out.number = std::strtod(begin, &end);
            ok = end != begin;
            at += size_t(end - begin);
            out.type = Json::Number;
        }
        --depth;
        return ok;
    }

    bool array(Json& out) {
        out.type = Json::Array;
        ++at;
        space();
        if (at < s.size() && s[at] == ']') { ++at; return true; }
        while (true) {
            out.items.emplace_back();
            if (!value(out.items.back())) return false;
            space();
            if (at >= s.size()) return false;
            if (s[at] == ',') { ++at; continue; }
            if (s[at] == ']') { ++at; return true; }
            return false;
        }
    }

    bool object(Json& out) {
        out.type = Json::Object;
        ++at;
        space();
        if (at < s.size() && s[at] == '}') { ++at; return true; }
        while (true) {
            space();
            std::string name;
            if (!string(name)) return false;
            space();
            if (at >= s.size() || s[at] != ':') return false;
            ++at;
            out.members.emplace_back(std::move(name), Json());
            if (!value(out.members.back().second)) return false;
            space();
            if (at >= s.size()) return false;
            if (s[at] == ',') { ++at; continue; }
            if (s[at] == '}') { ++at; return true; }
            return false;
        }
    }
};

}  // namespace

const Json& Json::operator[](const char* name) const {
    for (const auto& member : members)
        if (member.first == name) return member.second;
    return kNull;
}

std::string Json::str(const char* name, const std::string& fallback) const {
    const Json& v = (*this)[name];
    return v.type == String ? v.text : fallback;
}

double Json::num(const char* name, double fallback) const {
    const Json& v = (*this)[name];
    return v.type == Number ? v.number : fallback;
}

bool Json::flag(const char* name) const {
    const Json& v = (*this)[name];
    return v.type == Bool && v.boolean;
}

bool Json::parse(const std::string& input, Json& out, std::string& error) {
    Parser parser{input};
    out = Json();
    if (!parser.value(out)) {
        error = "the engine's answer is not JSON (at byte " + std::to_string(parser.at) + ")";
        return false;
    }
    return true;
}

std::string jsonQuote(const std::string& value) {
    std::string out = "\"";
    for (const unsigned char c : value) {
        if (c == '"' || c == '\\') { out += '\\'; out += char(c); }
        else if (c < 0x20) { char buffer[8]; std::snprintf(buffer, sizeof buffer, "\\u%04x", c); out += buffer; }
        else out += char(c);
    }
    return out + "\"";
}
