// The API page: Swagger UI on Alur's own OpenAPI document, with nothing fetched from elsewhere.
(function () {
  "use strict";
  var mount = document.getElementById("swagger-ui");
  if (!mount) {
    return;
  }
  if (typeof window.SwaggerUIBundle !== "function") {
    var note = document.createElement("p");
    note.className = "error";
    note.textContent = mount.getAttribute("data-msg-failed");
    mount.appendChild(note);
    return;
  }
  window.SwaggerUIBundle({
    url: mount.getAttribute("data-spec-url"),
    domNode: mount,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // The online validator would send the document to swagger.io; the office may have no internet.
    validatorUrl: null,
    deepLinking: false,
    defaultModelsExpandDepth: 0,
    persistAuthorization: false,
    requestInterceptor: function (request) {
      // The API counts only the bearer token; the page's sign-in cookie is never sent with it.
      request.credentials = "omit";
      return request;
    }
  });
})();
