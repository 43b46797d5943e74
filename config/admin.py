from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from aibos.admin import ReadOnlyModelAdmin
from config.models import Feature, Policy, ProviderProfile, SelectionRule, Setting
from config.providers.manifest import ManifestError, manifest_from_text
from config.providers.profiles import ProfileDataError, profiles_from_db
from config.providers.selection import Recommendation, recommend

MANIFEST_TOO_LARGE = "The manifest is larger than {limit} bytes."
MANIFEST_NOT_TEXT = "The uploaded manifest is not UTF-8 text."
MANIFEST_EMPTY = "Paste a manifest or upload a file."
# A requirements manifest is a dozen lines; anything near this is not one.
MANIFEST_MAX_BYTES = 64 * 1024

# The config schema is read-only for every runtime role: these pages show, never edit.
for model in (Setting, Policy, Feature, SelectionRule):
    admin.site.register(model, ReadOnlyModelAdmin)


class ManifestForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 16, "cols": 80}), required=False)
    upload = forms.FileField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("upload")
        if upload is not None:
            if upload.size > MANIFEST_MAX_BYTES:
                raise forms.ValidationError(MANIFEST_TOO_LARGE.format(limit=MANIFEST_MAX_BYTES))
            try:
                data["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise forms.ValidationError(MANIFEST_NOT_TEXT) from exc
        if not (data.get("text") or "").strip():
            raise forms.ValidationError(MANIFEST_EMPTY)
        if len(data["text"].encode()) > MANIFEST_MAX_BYTES:
            raise forms.ValidationError(MANIFEST_TOO_LARGE.format(limit=MANIFEST_MAX_BYTES))
        return data


@admin.register(ProviderProfile)
class ProviderProfileAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "provider", "release", "oldest_fact", "unverified_facts", "version")
    fields = ("name", "provider", "version", "facts")
    readonly_fields = ("name", "provider", "version", "facts")
    change_list_template = "admin/config/providerprofile/change_list.html"

    @admin.display(description="release")
    def release(self, obj: ProviderProfile) -> str:
        return str(obj.capabilities.get("release", ""))

    @admin.display(description="oldest as_of")
    def oldest_fact(self, obj: ProviderProfile) -> str:
        dates = [f["as_of"] for f in obj.capabilities.get("fields", {}).values()]
        return min(dates) if dates else ""

    @admin.display(description="unverified facts")
    def unverified_facts(self, obj: ProviderProfile) -> int:
        return sum(not f["verified"] for f in obj.capabilities.get("fields", {}).values())

    @admin.display(description="capabilities (value, as_of, source, verified)")
    def facts(self, obj: ProviderProfile) -> SafeString:
        rows = sorted(obj.capabilities.get("fields", {}).items())
        body = format_html_join(
            "",
            "<tr><th>{}</th><td><code>{}</code></td><td>{}</td><td><a href='{}'>{}</a></td>"
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    name,
                    json.dumps(fact["value"]),
                    fact["as_of"],
                    fact["source"],
                    fact["source"],
                    "yes" if fact["verified"] else "no",
                    fact.get("note", ""),
                )
                for name, fact in rows
            ),
        )
        return format_html(
            "<table><tr><th>field</th><th>value</th><th>as_of</th><th>source</th>"
            "<th>verified</th><th>note</th></tr>{}</table>",
            body,
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.recommend_view)
        return [
            path("recommend/", view, name="config_providerprofile_recommend"),
            *super().get_urls(),
        ]

    def recommend_view(self, request: HttpRequest) -> HttpResponse:
        # Staff-only through admin_view; it reads profiles and writes nothing.
        recommendation: Recommendation | None = None
        error = ""
        if request.method == "POST":
            form = ManifestForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    manifest = manifest_from_text(form.cleaned_data["text"], name="manifest")
                    recommendation = recommend(manifest, profiles_from_db())
                except (ManifestError, ProfileDataError) as exc:
                    error = str(exc)
        else:
            form = ManifestForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Recommend a provider for a tenant manifest",
            "opts": self.model._meta,
            "form": form,
            "error": error,
            "recommendation": recommendation,
        }
        return TemplateResponse(request, "admin/config/providerprofile/recommend.html", context)
