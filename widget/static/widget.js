/*
 * Đà Nẵng tourism assistant: the website chat widget.
 *
 * Embed with one tag (the config object is optional; data-* attributes on the tag work too):
 *
 *   <script>window.DanangChat = {socketUrl: "https://bot.example.vn", lang: "vi"};</script>
 *   <script src="https://admin.example.vn/chat/widget.js" defer></script>
 *
 * Options: socketUrl (the Rasa server; default: the page's origin), socketPath ("/socket.io"),
 * lang ("vi" | "en"; default: the browser's language, Vietnamese unless it is English),
 * title, subtitle, suggestions ([{title, payload}] shown under the welcome; [] for none),
 * storage ("local" keeps the conversation across reloads and tabs, "session" per tab),
 * open (start with the panel open), color (the accent colour).
 *
 * It speaks Rasa's socket.io channel through the socket.io client library (loaded from
 * the same folder as this file when the page has none): "session_request" with the stored
 * session id, "session_confirm" back, "user_uttered" out, "bot_uttered" in. With the
 * channel's session persistence the same id keeps the same conversation on the server, and
 * the rendered messages are kept in the browser so a reload shows them again.
 *
 * Safety: everything from a reply (and so from the knowledge base) becomes text nodes;
 * links and images are built as elements with only http(s) addresses. This file never
 * parses HTML.
 */
(function () {
  "use strict";

  if (window.__danangChatLoaded) return; // the tag included twice: one widget only
  window.__danangChatLoaded = true;

  var script = document.currentScript;
  var BASE = script && script.src ? script.src.replace(/[^/]*(\?.*)?$/, "") : "/chat/";
  var VERSION = 1;
  var MAX_KEPT = 80; // messages kept in storage: enough to scroll back, small enough to parse fast
  var MAX_INPUT = 1000;
  var REPLY_TIMEOUT_MS = 25000;

  var TEXT = {
    vi: {
      open: "Mở trò chuyện với trợ lý du lịch Đà Nẵng",
      close: "Đóng trò chuyện",
      title: "Trợ lý du lịch Đà Nẵng",
      subtitle: "Hỏi về điểm đến, sự kiện, dịch vụ",
      dialog: "Trò chuyện với trợ lý du lịch",
      log: "Tin nhắn",
      input: "Câu hỏi của bạn",
      placeholder: "Nhập câu hỏi…",
      send: "Gửi",
      you: "Bạn: ",
      bot: "Trợ lý: ",
      typing: "Trợ lý đang trả lời…",
      connecting: "Đang kết nối…",
      offline: "Mất kết nối. Đang thử kết nối lại…",
      failed: "Không tải được kết nối trò chuyện. Vui lòng thử lại sau.",
      noReply: "Chưa nhận được trả lời. Bạn thử hỏi lại nhé.",
      suggestions: "Gợi ý",
      image: "Hình ảnh",
      restart: "Bắt đầu cuộc trò chuyện mới",
      welcome: "Xin chào! Mình là trợ lý du lịch Đà Nẵng. Bạn muốn hỏi gì về điểm tham quan, sự kiện hay dịch vụ?",
      defaults: ["Cầu Rồng ở đâu?", "Nên đi đâu ở Đà Nẵng?", "Số điện thoại khẩn cấp"]
    },
    en: {
      open: "Chat with the Da Nang tourism assistant",
      close: "Close chat",
      title: "Da Nang tourism assistant",
      subtitle: "Ask about places, events and services",
      dialog: "Chat with the tourism assistant",
      log: "Messages",
      input: "Your question",
      placeholder: "Type a question…",
      send: "Send",
      you: "You: ",
      bot: "Assistant: ",
      typing: "The assistant is typing…",
      connecting: "Connecting…",
      offline: "Connection lost. Reconnecting…",
      failed: "The chat could not be loaded. Please try again later.",
      noReply: "No answer yet. Please ask again.",
      suggestions: "Suggestions",
      image: "Image",
      restart: "Start a new conversation",
      welcome: "Hello! I'm the Da Nang tourism assistant. Ask me about places to visit, events or services.",
      defaults: ["Where is the Dragon Bridge?", "What should I see in Da Nang?", "Emergency numbers"]
    }
  };

  // ---- configuration -------------------------------------------------------------------

  function readConfig() {
    var given = window.DanangChat && typeof window.DanangChat === "object" ? window.DanangChat : {};
    var data = script ? script.dataset : {};
    function option(name) {
      if (given[name] !== undefined && given[name] !== null) return given[name];
      var attr = data[name];
      return attr === undefined || attr === "" ? undefined : attr;
    }
    var lang = String(option("lang") || navigator.language || "vi").toLowerCase();
    lang = lang.indexOf("en") === 0 ? "en" : "vi";
    var text = TEXT[lang];
    var suggestions = given.suggestions;
    if (!Array.isArray(suggestions)) {
      suggestions = text.defaults.map(function (q) { return {title: q, payload: q}; });
    }
    return {
      socketUrl: String(option("socketUrl") || window.location.origin),
      socketPath: String(option("socketPath") || "/socket.io"),
      lang: lang,
      text: text,
      title: String(option("title") || text.title),
      subtitle: String(option("subtitle") || text.subtitle),
      suggestions: cleanButtons(suggestions),
      storage: option("storage") === "session" ? "session" : "local",
      open: option("open") === true || option("open") === "true",
      color: option("color") ? String(option("color")) : null
    };
  }

  // ---- values from the bot or from storage: only plain strings pass ---------------------

  function isText(value) {
    return typeof value === "string" && value.length > 0;
  }

  function cleanButtons(list) {
    if (!Array.isArray(list)) return [];
    var out = [];
    for (var i = 0; i < list.length && out.length < 10; i++) {
      var b = list[i];
      if (b && isText(b.title) && isText(b.payload)) {
        out.push({title: b.title.slice(0, 200), payload: b.payload.slice(0, 2000)});
      }
    }
    return out;
  }

  function httpUrl(value) {
    if (!isText(value)) return null;
    try {
      var url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  // A reply from Rasa's socket.io channel -> {from, text, image} and its quick replies.
  function fromBot(data) {
    if (!data || typeof data !== "object") return null;
    var image = httpUrl(data.image);
    var attachment = data.attachment;
    if (!image && attachment && typeof attachment === "object" && attachment.type === "image" &&
        attachment.payload && typeof attachment.payload === "object") {
      image = httpUrl(attachment.payload.src);
    }
    var text = isText(data.text) ? data.text : null;
    if (!text && !image) return null;
    return {
      message: {from: "bot", text: text, image: image},
      buttons: cleanButtons(data.quick_replies || data.buttons)
    };
  }

  // ---- storage: the conversation survives reloads ---------------------------------------

  function makeStore(kind) {
    var area = null;
    try {
      area = kind === "session" ? window.sessionStorage : window.localStorage;
      area.setItem("danang-chat:probe", "1");
      area.removeItem("danang-chat:probe");
    } catch (e) {
      area = null; // storage refused (private mode, policy): keep the conversation in memory
    }
    var key = "danang-chat:v" + VERSION;
    return {
      key: key,
      area: area,
      load: function () {
        var blank = {sessionId: null, open: false, messages: [], buttons: []};
        if (!area) return blank;
        try {
          var saved = JSON.parse(area.getItem(key) || "null");
          if (!saved || typeof saved !== "object") return blank;
          var messages = Array.isArray(saved.messages) ? saved.messages.filter(function (m) {
            return m && (m.from === "bot" || m.from === "user") && (isText(m.text) || httpUrl(m.image));
          }).map(function (m) {
            return {from: m.from, text: isText(m.text) ? m.text : null, image: httpUrl(m.image)};
          }) : [];
          return {
            sessionId: isText(saved.sessionId) ? saved.sessionId : null,
            open: saved.open === true,
            messages: messages.slice(-MAX_KEPT),
            buttons: cleanButtons(saved.buttons)
          };
        } catch (e) {
          return blank;
        }
      },
      save: function (state) {
        if (!area) return;
        try {
          area.setItem(key, JSON.stringify({
            sessionId: state.sessionId,
            open: state.open,
            messages: state.messages.slice(-MAX_KEPT),
            buttons: state.buttons
          }));
        } catch (e) {
          // storage full: the conversation still works, it just won't survive a reload
        }
      }
    };
  }

  // ---- DOM helpers: elements and text nodes only ----------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var name in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, name)) continue;
        if (name === "className") node.className = attrs[name];
        else if (name === "text") node.textContent = attrs[name];
        else node.setAttribute(name, attrs[name]);
      }
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  var SVG = "http://www.w3.org/2000/svg";

  function icon(paths) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  var ICON_CHAT = ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"];
  var ICON_CLOSE = ["M6 6l12 12M18 6L6 18"];
  var ICON_SEND = ["M3 20l18-8L3 4v6l12 2-12 2z"];
  var ICON_RESTART = ["M4 12a8 8 0 1 0 2.3-5.6M4 4v4h4"];

  // Text with its web addresses as links: split into text nodes and <a> elements.
  var URL_PATTERN = /https?:\/\/[^\s<>"']+/g;

  // A long address (a map search) is shown shortened: the whole of it is in the link.
  function linkLabel(raw) {
    if (raw.length <= 48) return raw;
    var shown = raw.replace(/^https?:\/\//, "");
    return shown.slice(0, 40) + "…";
  }

  function richText(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var raw = match[0].replace(/[.,;:!?)\]}]+$/, ""); // sentence punctuation is not part of it
      var href = httpUrl(raw);
      if (!href) continue;
      fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = el("a", {className: "link", target: "_blank", rel: "noopener noreferrer", title: raw});
      link.href = href;
      link.textContent = linkLabel(raw);
      fragment.appendChild(link);
      last = match.index + raw.length;
      URL_PATTERN.lastIndex = last;
    }
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  // ---- the widget -----------------------------------------------------------------------

  function Widget(config) {
    this.config = config;
    this.t = config.text;
    this.store = makeStore(config.storage);
    this.state = this.store.load();
    this.socket = null;
    this.confirmed = false;
    this.outbox = []; // messages typed before the server confirmed the session
    this.replyTimer = null;
    this.build();
    this.renderAll();
    if (this.state.open || config.open) this.open(false);
  }

  Widget.prototype.build = function () {
    var t = this.t;
    var self = this;
    this.host = el("div", {id: "danang-chat", "data-danang-chat": ""});
    var root = this.host.attachShadow ? this.host.attachShadow({mode: "open"}) : this.host;
    this.root = root;

    var frame = el("div", {className: "frame", lang: this.config.lang});
    frame.style.visibility = "hidden"; // until the stylesheet is in: no flash of raw markup
    var style = el("link", {rel: "stylesheet"});
    style.href = BASE + "widget.css";
    style.addEventListener("load", function () { frame.style.visibility = ""; });
    style.addEventListener("error", function () { frame.style.visibility = ""; });
    if (this.config.color && window.CSS && CSS.supports && CSS.supports("color", this.config.color)) {
      frame.style.setProperty("--dnc-accent", this.config.color);
    }

    this.launcher = el("button", {
      type: "button", className: "launcher", "aria-label": t.open, "aria-expanded": "false",
      "aria-controls": "dnc-panel"
    }, [icon(ICON_CHAT)]);
    this.launcher.addEventListener("click", function () { self.toggle(); });

    var titleId = "dnc-title";
    this.closeButton = el("button", {type: "button", className: "icon-button", "aria-label": t.close,
      title: t.close}, [icon(ICON_CLOSE)]);
    this.closeButton.addEventListener("click", function () { self.close(); });
    var restart = el("button", {type: "button", className: "icon-button", "aria-label": t.restart,
      title: t.restart}, [icon(ICON_RESTART)]);
    restart.addEventListener("click", function () { self.restart(); });

    var header = el("div", {className: "header"}, [
      el("div", {className: "heading"}, [
        el("h2", {id: titleId, className: "title", text: this.config.title}),
        el("p", {className: "subtitle", text: this.config.subtitle})
      ]),
      restart,
      this.closeButton
    ]);

    this.log = el("div", {className: "log", role: "log", "aria-live": "polite", "aria-label": t.log,
      tabindex: "0"});
    this.typing = el("div", {className: "typing", role: "status", hidden: ""}, [
      el("span", {className: "dot", "aria-hidden": "true"}),
      el("span", {className: "dot", "aria-hidden": "true"}),
      el("span", {className: "dot", "aria-hidden": "true"}),
      el("span", {className: "sr-only", text: t.typing})
    ]);
    this.status = el("div", {className: "status", role: "status"});
    this.replies = el("div", {className: "replies", role: "group", "aria-label": t.suggestions});

    this.input = el("input", {id: "dnc-input", className: "input", type: "text", autocomplete: "off",
      maxlength: String(MAX_INPUT), placeholder: t.placeholder, enterkeyhint: "send"});
    var send = el("button", {type: "submit", className: "send", "aria-label": t.send, title: t.send},
      [icon(ICON_SEND)]);
    this.form = el("form", {className: "composer"}, [
      el("label", {for: "dnc-input", className: "sr-only", text: t.input}),
      this.input,
      send
    ]);
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value.trim();
      if (!text) return;
      self.input.value = "";
      self.sendText(text, text);
    });

    this.panel = el("div", {id: "dnc-panel", className: "panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": titleId, hidden: ""}, [
      header,
      el("div", {className: "scroller"}, [this.log, this.typing]),
      this.status,
      this.replies,
      this.form
    ]);
    frame.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !self.panel.hidden) {
        event.stopPropagation();
        self.close();
      }
    });

    frame.appendChild(this.panel);
    frame.appendChild(this.launcher);
    root.appendChild(style);
    root.appendChild(frame);
    document.body.appendChild(this.host);

    // Another tab of the same site talked to the assistant: show the same conversation.
    window.addEventListener("storage", function (event) {
      if (event.key !== self.store.key || event.storageArea !== self.store.area) return;
      var open = self.state.open;
      self.state = self.store.load();
      self.state.open = open;
      self.renderAll();
    });
  };

  // ---- rendering ---------------------------------------------------------------------------

  Widget.prototype.bubble = function (message) {
    var who = message.from === "user" ? this.t.you : this.t.bot;
    var node = el("div", {className: "message " + (message.from === "user" ? "from-user" : "from-bot")}, [
      el("span", {className: "sr-only", text: who})
    ]);
    if (message.text) {
      var text = el("div", {className: "text"});
      text.appendChild(message.from === "bot" ? richText(message.text) : document.createTextNode(message.text));
      node.appendChild(text);
    }
    if (message.image) {
      var img = el("img", {className: "image", alt: this.t.image, loading: "lazy",
        referrerpolicy: "no-referrer"});
      img.src = message.image;
      node.appendChild(img);
    }
    return node;
  };

  Widget.prototype.welcome = function () {
    return el("div", {className: "message from-bot welcome"}, [
      el("span", {className: "sr-only", text: this.t.bot}),
      el("div", {className: "text", text: this.t.welcome})
    ]);
  };

  Widget.prototype.renderAll = function () {
    this.log.textContent = "";
    this.log.appendChild(this.welcome());
    for (var i = 0; i < this.state.messages.length; i++) {
      this.log.appendChild(this.bubble(this.state.messages[i]));
    }
    var buttons = this.state.buttons.length || this.state.messages.length ? this.state.buttons
      : this.config.suggestions;
    this.renderButtons(buttons);
    this.scrollDown();
  };

  Widget.prototype.renderButtons = function (buttons) {
    var self = this;
    this.replies.textContent = "";
    buttons.forEach(function (b) {
      var button = el("button", {type: "button", className: "reply", text: b.title});
      button.addEventListener("click", function () { self.sendText(b.title, b.payload); });
      self.replies.appendChild(button);
    });
    this.replies.hidden = buttons.length === 0;
  };

  Widget.prototype.add = function (message, buttons) {
    this.state.messages.push(message);
    if (this.state.messages.length > MAX_KEPT) this.state.messages.splice(0, this.state.messages.length - MAX_KEPT);
    this.state.buttons = buttons;
    this.store.save(this.state);
    this.log.appendChild(this.bubble(message));
    this.renderButtons(buttons);
    this.scrollDown();
  };

  Widget.prototype.scrollDown = function () {
    var scroller = this.log.parentNode;
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  };

  Widget.prototype.setStatus = function (text) {
    this.status.textContent = text || "";
    this.status.hidden = !text;
  };

  Widget.prototype.setTyping = function (on) {
    var self = this;
    clearTimeout(this.replyTimer);
    this.typing.hidden = !on;
    if (on) {
      this.replyTimer = setTimeout(function () {
        self.typing.hidden = true;
        self.setStatus(self.t.noReply);
      }, REPLY_TIMEOUT_MS);
      this.scrollDown();
    }
  };

  // ---- opening and closing ---------------------------------------------------------------

  Widget.prototype.open = function (focus) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", this.t.close);
    this.launcher.classList.add("is-open");
    this.state.open = true;
    this.store.save(this.state);
    this.scrollDown();
    this.connect();
    if (focus !== false) this.input.focus();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-label", this.t.open);
    this.launcher.classList.remove("is-open");
    this.state.open = false;
    this.store.save(this.state);
    this.launcher.focus();
  };

  Widget.prototype.toggle = function () {
    if (this.panel.hidden) this.open();
    else this.close();
  };

  Widget.prototype.restart = function () {
    this.state = {sessionId: null, open: true, messages: [], buttons: []};
    this.store.save(this.state);
    this.confirmed = false;
    this.setTyping(false);
    this.renderAll();
    if (this.socket && this.socket.connected) this.socket.emit("session_request", {session_id: null});
    this.input.focus();
  };

  // ---- talking to Rasa -------------------------------------------------------------------

  Widget.prototype.sendText = function (shown, payload) {
    this.setStatus("");
    this.add({from: "user", text: shown.slice(0, MAX_INPUT), image: null}, []);
    this.outbox.push(payload.slice(0, 2000));
    this.setTyping(true);
    this.flush();
    this.connect();
  };

  Widget.prototype.flush = function () {
    if (!this.socket || !this.confirmed || !this.state.sessionId) return;
    while (this.outbox.length) {
      this.socket.emit("user_uttered", {message: this.outbox.shift(), session_id: this.state.sessionId});
    }
  };

  Widget.prototype.connect = function () {
    var self = this;
    if (this.socket || this.loading) return;
    this.loading = true;
    this.setStatus(this.t.connecting);
    loadClient(function (io) {
      self.loading = false;
      if (!io) {
        self.setStatus(self.t.failed);
        self.setTyping(false);
        return;
      }
      self.attach(io);
    });
  };

  Widget.prototype.attach = function (io) {
    var self = this;
    var socket = io(this.config.socketUrl, {
      path: this.config.socketPath,
      // The Rasa server is usually another origin: WebSocket needs no CORS; polling is the
      // fallback where a proxy blocks WebSocket.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnectionDelayMax: 10000
    });
    this.socket = socket;
    socket.on("connect", function () {
      // Every (re)connection is a new socket on the server: ask for the session again so
      // this socket joins the conversation's room.
      self.confirmed = false;
      socket.emit("session_request", {session_id: self.state.sessionId});
    });
    socket.on("session_confirm", function (sessionId) {
      var id = typeof sessionId === "string" ? sessionId : sessionId && sessionId.session_id;
      if (!isText(id)) return;
      self.state.sessionId = id;
      self.store.save(self.state);
      self.confirmed = true;
      self.setStatus("");
      self.flush();
    });
    socket.on("bot_uttered", function (data) {
      var reply = fromBot(data);
      if (!reply) return;
      self.setTyping(false);
      self.setStatus("");
      self.add(reply.message, reply.buttons);
    });
    socket.on("disconnect", function () {
      self.confirmed = false;
      self.setStatus(self.t.offline);
    });
    socket.on("connect_error", function () {
      self.setStatus(self.t.offline);
    });
  };

  // The socket.io client: the page's own if it has one, else the copy next to this file.
  function loadClient(done) {
    if (typeof window.io === "function") return done(window.io);
    var tag = document.createElement("script");
    tag.src = BASE + "socket.io.min.js";
    tag.async = true;
    tag.onload = function () { done(typeof window.io === "function" ? window.io : null); };
    tag.onerror = function () { done(null); };
    document.head.appendChild(tag);
  }

  function start() {
    var widget = new Widget(readConfig());
    // A small handle for the host page (and tests): open/close from the page's own buttons.
    window.DanangChatWidget = {
      open: function () { widget.open(); },
      close: function () { widget.close(); }
    };
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
