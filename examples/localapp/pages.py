"""The HTML of the local notes app (one page: the list and its forms)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from httpkit.web import Request

__all__ = ["MAX_NOTE_LENGTH", "Note", "notes_page"]

MAX_NOTE_LENGTH = 500

_STYLE = (
    "body{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em}"
    "li{margin:.3em 0}.done span{text-decoration:line-through;color:#888}"
    "form.inline{display:inline}.error{color:#b00}"
)


@dataclass(frozen=True)
class Note:
    id: int
    text: str
    done: bool


def notes_page(
    request: Request, notes: list[Note], token: str, *, error: str = "", draft: str = ""
) -> str:
    """The whole page; every piece of user text is escaped."""
    items = "".join(_note_item(request, note, token) for note in notes)
    listing = f"<ul>{items}</ul>" if notes else "<p>No notes yet.</p>"
    message = f'<p class="error">{html.escape(error)}</p>' if error else ""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Notes</title>'
        f"<style>{_STYLE}</style></head><body><h1>Notes</h1>{message}"
        f'<form method="post" action="{_attr(request.url_for("notes"))}">'
        f"{_token_field(token)}"
        f'<input name="text" maxlength="{MAX_NOTE_LENGTH}" required autofocus '
        f'value="{_attr(draft)}" aria-label="New note"> <button>Add</button></form>'
        f"{listing}</body></html>\n"
    )


def _note_item(request: Request, note: Note, token: str) -> str:
    toggle = request.url_for("toggle", id=note.id)
    delete = request.url_for("delete", id=note.id)
    css_class = ' class="done"' if note.done else ""
    label = "Undo" if note.done else "Done"
    return (
        f"<li{css_class}><span>{html.escape(note.text)}</span> "
        f'<form class="inline" method="post" action="{_attr(toggle)}">{_token_field(token)}'
        f"<button>{label}</button></form> "
        f'<form class="inline" method="post" action="{_attr(delete)}">{_token_field(token)}'
        "<button>Delete</button></form></li>"
    )


def _token_field(token: str) -> str:
    return f'<input type="hidden" name="token" value="{_attr(token)}">'


def _attr(value: str) -> str:
    return html.escape(value, quote=True)
